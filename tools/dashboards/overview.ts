/**
 * The "Qwen3Guard-Gen-WEB / Overview" Grafana dashboard, as code. Every metric name comes from
 * src/metrics/metric-names.ts; `npm run dashboards` writes the JSON that Grafana provisions.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  DatasourceVariableBuilder,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableHide,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard, DataSourceRef, ValueMapping } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  PanelBuilder as PieChartBuilder,
  PieChartLabels,
  PieChartLegendOptionsBuilder,
  PieChartLegendValues,
  PieChartType,
} from '@grafana/grafana-foundation-sdk/piechart';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { DEFAULT_METRICS as D, JOB, LATENCY_SLO_THRESHOLD_SECONDS, METRICS as M, NON_SLO_ENDPOINT_REGEX, SLO } from '../../src/metrics/metric-names';

export const OVERVIEW_UID = 'qwen3guard-overview';

/** Panels query the datasource chosen in the `datasource` variable (default: the provisioned uid `prometheus`). */
const DS: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** The service's series, narrowed to the selected job and instances. */
function svc(extra = ''): string {
  return `{job="$job", instance=~"$instance"${extra ? `, ${extra}` : ''}}`;
}
/** Node exporter series. */
const NODE = `{job="${JOB.nodeExporter}"}`;
const RATE = '[$__rate_interval]';
const NOT_PROBE = `endpoint!~"${NON_SLO_ENDPOINT_REGEX}"`;

function query(expr: string, legend: string, refId: string): DataqueryBuilder {
  return new DataqueryBuilder().datasource(DS).expr(expr).legendFormat(legend).refId(refId);
}

function queries(...items: Array<[expr: string, legend: string]>): DataqueryBuilder[] {
  return items.map(([expr, legend], i) => query(expr, legend, String.fromCharCode(65 + i)));
}

function timeseries(title: string, description: string, unit: string, targets: DataqueryBuilder[], w = 8): TimeseriesBuilder {
  return new TimeseriesBuilder()
    .title(title)
    .description(description)
    .datasource(DS)
    .unit(unit)
    .span(w)
    .height(8)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .legend(new common.VizLegendOptionsBuilder().displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).showLegend(true))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .targets(targets);
}

/** A red threshold line/area from `value` up (alert thresholds drawn on the graph). */
function thresholdAt(value: number): ThresholdsConfigBuilder {
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
    { value: null, color: 'green' },
    { value, color: 'red' },
  ]);
}

function stat(title: string, description: string, unit: string, targets: DataqueryBuilder[], w = 4): StatBuilder {
  return new StatBuilder()
    .title(title)
    .description(description)
    .datasource(DS)
    .unit(unit)
    .span(w)
    .height(4)
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .targets(targets);
}

const READY_MAPPING: ValueMapping[] = [
  { type: MappingType.ValueToText, options: { '0': { text: 'NOT READY', color: 'red', index: 0 }, '1': { text: 'READY', color: 'green', index: 1 } } },
];
const DEMO_MAPPING: ValueMapping[] = [
  { type: MappingType.ValueToText, options: { '0': { text: 'real model', color: 'green', index: 0 }, '1': { text: 'DEMO MODEL', color: 'orange', index: 1 } } },
];

export function buildOverviewDashboard(): Dashboard {
  const reqRate = (extra = '') => `rate(${M.requestCount.name}${svc(extra)}${RATE})`;
  const bucketRate = `rate(${M.requestDuration.name}_bucket${svc()}${RATE})`;
  const quantile = (q: number) => `histogram_quantile(${q}, sum by (le) (${bucketRate}))`;
  // `or vector(0)`: no error series at all means 0 % errors, not "no data".
  const sloRatio = (window: string) =>
    `(sum(rate(${M.requestCount.name}${svc(`status="error", code!~"4..", ${NOT_PROBE}`)}[${window}])) or vector(0))` +
    ` / sum(rate(${M.requestCount.name}${svc(`code!~"4..", ${NOT_PROBE}`)}[${window}]))`;
  const fastShare = (window: string) =>
    `sum(rate(${M.requestDuration.name}_bucket${svc(`le=~"${LATENCY_SLO_THRESHOLD_SECONDS}(\\\\.0)?", ${NOT_PROBE}`)}[${window}]))` +
    ` / sum(rate(${M.requestDuration.name}_count${svc(NOT_PROBE)}[${window}]))`;

  const builder = new DashboardBuilder('Qwen3Guard-Gen-WEB / Overview')
    .uid(OVERVIEW_UID)
    .description(
      'Traffic, errors, latency, verdicts, batching engine, model state and resources of the Qwen3Guard-Gen-WEB moderation service. Generated by tools/dashboards (npm run dashboards): edit the TypeScript, not this JSON.',
    )
    .tags(['qwen3guard', 'moderation', 'generated'])
    .editable()
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .tooltip(1)
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus').current({ text: 'Prometheus', value: 'prometheus' }))
    .withVariable(
      new QueryVariableBuilder('job')
        .label('Job')
        .datasource(DS)
        .query({ qryType: 1, query: `label_values(${M.requestCount.name}, job)`, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .current({ text: JOB.service, value: JOB.service }),
    )
    .withVariable(
      new QueryVariableBuilder('instance')
        .label('Instance')
        .datasource(DS)
        .query({ qryType: 1, query: `label_values(up{job="$job"}, instance)`, refId: 'PrometheusVariableQueryEditor-VariableQuery' })
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue('.*')
        .current({ text: 'All', value: '$__all' })
        .hide(VariableHide.DontHide),
    );

  // --- Service level ---------------------------------------------------------------------------------
  builder.withRow(new RowBuilder('Service level'));
  builder
    .withPanel(
      stat(
        'Availability (24h)',
        `Share of valid requests (4xx and probe routes excluded) without a server error over the last 24h. SLO: ${SLO.availability * 100} %.`,
        'percentunit',
        queries([`1 - (${sloRatio('1d')})`, 'availability']),
      )
        .decimals(3)
        .thresholds(
          new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
            { value: null, color: 'red' },
            { value: SLO.availability, color: 'green' },
          ]),
        ),
    )
    .withPanel(
      stat(
        `Requests within ${LATENCY_SLO_THRESHOLD_SECONDS} s (24h)`,
        `Share of requests (probe routes excluded) answered within ${LATENCY_SLO_THRESHOLD_SECONDS} s over the last 24h. SLO: ${SLO.latency * 100} %.`,
        'percentunit',
        queries([fastShare('1d'), 'within threshold']),
      )
        .decimals(3)
        .thresholds(
          new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
            { value: null, color: 'red' },
            { value: SLO.latency, color: 'green' },
          ]),
        ),
    )
    .withPanel(stat('Request rate', 'All requests per second, all routes.', 'reqps', queries([`sum(${reqRate()})`, 'req/s'])))
    .withPanel(
      stat('Model ready', 'Instances whose model is loaded and warmed up.', 'none', queries([`${M.modelReady.name}${svc()}`, '{{instance}}']))
        .mappings(READY_MAPPING)
        .colorMode(common.BigValueColorMode.Background)
        .textMode(common.BigValueTextMode.ValueAndName),
    )
    .withPanel(
      stat(
        'Demo model',
        'Whether the built-in synthetic demo model serves (its verdicts are not real moderation).',
        'none',
        queries([`${M.demoModel.name}${svc()}`, '{{instance}}']),
      )
        .mappings(DEMO_MAPPING)
        .colorMode(common.BigValueColorMode.Background)
        .textMode(common.BigValueTextMode.ValueAndName),
    )
    .withPanel(
      stat(
        'Model served',
        'The model served: id, weight dtype, execution provider and service version (qwen3guard_model_info).',
        'none',
        queries([`${M.modelInfo.name}${svc()}`, '{{model}} {{dtype}} on {{provider}} (v{{version}})']),
      )
        .textMode(common.BigValueTextMode.Name)
        .colorMode(common.BigValueColorMode.None),
    );

  // --- Traffic, errors, latency ------------------------------------------------------------------------
  builder.withRow(new RowBuilder('Requests'));
  builder
    .withPanel(timeseries('QPS by endpoint', 'Requests per second by route template.', 'reqps', queries([`sum by (endpoint) (${reqRate()})`, '{{endpoint}}'])))
    .withPanel(
      timeseries(
        'Error ratio',
        'status="error" (any HTTP status >= 400) over all requests, and the availability SLI (server errors over valid requests). PredictionErrorRateHigh fires above 10 % for 5m.',
        'percentunit',
        queries(
          [`(sum(${reqRate('status="error"')}) or vector(0)) / sum(${reqRate()})`, 'all errors (status="error")'],
          [`(sum(${reqRate(`status="error", code!~"4..", ${NOT_PROBE}`)}) or vector(0)) / sum(${reqRate(`code!~"4..", ${NOT_PROBE}`)})`, 'server errors (SLI)'],
        ),
      )
        .min(0)
        .thresholds(thresholdAt(0.1))
        .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed)),
    )
    .withPanel(
      timeseries('Responses by HTTP status', 'Responses per second by HTTP status code.', 'reqps', queries([`sum by (code) (${reqRate()})`, '{{code}}'])),
    )
    .withPanel(
      timeseries(
        'Latency P50 / P95 / P99',
        `Request latency quantiles from qwen3guard_request_duration_seconds (all routes); the dashed line is the ${LATENCY_SLO_THRESHOLD_SECONDS} s alert / SLO threshold.`,
        's',
        queries(
          [quantile(0.5), 'p50'],
          [quantile(0.95), 'p95'],
          [quantile(0.99), 'p99'],
          [`sum(rate(${M.requestDuration.name}_sum${svc()}${RATE})) / sum(rate(${M.requestDuration.name}_count${svc()}${RATE}))`, 'average'],
        ),
        12,
      )
        .min(0)
        .thresholds(thresholdAt(LATENCY_SLO_THRESHOLD_SECONDS))
        .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed)),
    )
    .withPanel(
      timeseries(
        'P95 latency by endpoint',
        'The 95th percentile latency of each route.',
        's',
        queries([`histogram_quantile(0.95, sum by (endpoint, le) (${bucketRate}))`, '{{endpoint}}']),
        12,
      ).min(0),
    );

  // --- Moderation ---------------------------------------------------------------------------------------
  builder.withRow(new RowBuilder('Moderation verdicts'));
  builder
    .withPanel(
      new PieChartBuilder()
        .title('Verdict mix')
        .description('Verdicts by safety level over the selected time range.')
        .datasource(DS)
        .span(8)
        .height(8)
        .pieType(PieChartType.Donut)
        .displayLabels([PieChartLabels.Percent])
        .legend(
          new PieChartLegendOptionsBuilder()
            .displayMode(common.LegendDisplayMode.Table)
            .placement(common.LegendPlacement.Right)
            .showLegend(true)
            .values([PieChartLegendValues.Value, PieChartLegendValues.Percent]),
        )
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
        .targets([query(`sum by (safety_level) (increase(${M.verdicts.name}${svc()}[$__range]))`, '{{safety_level}}', 'A').instant()]),
    )
    .withPanel(
      timeseries(
        'Verdicts by safety level',
        'Verdicts per second by safety level.',
        'ops',
        queries([`sum by (safety_level) (rate(${M.verdicts.name}${svc()}${RATE}))`, '{{safety_level}}']),
      ).stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal)),
    )
    .withPanel(
      timeseries(
        'Flagged verdicts by category',
        'Unsafe or controversial verdicts per second by primary category.',
        'ops',
        queries([`sum by (category) (rate(${M.verdicts.name}${svc('category!="None"')}${RATE}))`, '{{category}}']),
      ).stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal)),
    );

  // --- Engine ------------------------------------------------------------------------------------------
  builder.withRow(new RowBuilder('Inference engine'));
  builder
    .withPanel(
      timeseries(
        'Queue depth and in-flight requests',
        'Inputs waiting in the batching queue (QueueSaturation fires above 80 % of capacity for 5m) and HTTP requests being handled.',
        'short',
        queries(
          [`sum by (instance) (${M.queueDepth.name}${svc()})`, 'queued {{instance}}'],
          [`sum by (instance) (${M.queueCapacity.name}${svc()})`, 'capacity {{instance}}'],
          [`sum by (instance) (${M.inflightRequests.name}${svc()})`, 'in flight {{instance}}'],
        ),
      ).min(0),
    )
    .withPanel(
      timeseries(
        'Batch size',
        'Inputs per executed batch: average and 95th percentile.',
        'short',
        queries(
          [`sum(rate(${M.batchSize.name}_sum${svc()}${RATE})) / sum(rate(${M.batchSize.name}_count${svc()}${RATE}))`, 'average'],
          [`histogram_quantile(0.95, sum by (le) (rate(${M.batchSize.name}_bucket${svc()}${RATE})))`, 'p95'],
        ),
      ).min(0),
    )
    .withPanel(
      timeseries(
        'Queue wait, prefill, decode (P95)',
        'Where the time of a moderation goes: waiting for a batch, the prompt forward pass, the greedy decode loop.',
        's',
        queries(
          [`histogram_quantile(0.95, sum by (le) (rate(${M.queueWait.name}_bucket${svc()}${RATE})))`, 'queue wait'],
          [`histogram_quantile(0.95, sum by (le) (rate(${M.prefill.name}_bucket${svc()}${RATE})))`, 'prefill'],
          [`histogram_quantile(0.95, sum by (le) (rate(${M.decode.name}_bucket${svc()}${RATE})))`, 'decode'],
        ),
      ).min(0),
    )
    .withPanel(
      timeseries(
        'Tokens per second',
        'Prompt tokens, prompt tokens served from the prefix cache, and generated tokens.',
        'short',
        queries([`sum by (kind) (rate(${M.tokens.name}${svc()}${RATE}))`, '{{kind}}']),
      ).min(0),
    )
    .withPanel(
      timeseries(
        'Prefix cache hit ratio',
        'Share of prefix-cache lookups that reused a cached KV prefix (the fixed template text before the conversation).',
        'percentunit',
        queries([`sum(rate(${M.prefixCacheHits.name}${svc()}${RATE})) / sum(rate(${M.prefixCacheLookups.name}${svc()}${RATE}))`, 'hit ratio']),
      )
        .min(0)
        .max(1),
    )
    .withPanel(
      timeseries(
        'Engine errors by code',
        'Engine failures per second by engine error code.',
        'ops',
        queries([`sum by (code) (rate(${M.engineErrors.name}${svc()}${RATE}))`, '{{code}}']),
      ).min(0),
    );

  // --- Model -------------------------------------------------------------------------------------------
  builder.withRow(new RowBuilder('Model'));
  builder
    .withPanel(
      timeseries(
        'Model ready over time',
        '1 when the model is loaded and warmed up (ModelNotReady fires after 10m at 0).',
        'none',
        queries([`${M.modelReady.name}${svc()}`, '{{instance}}']),
        12,
      )
        .min(0)
        .max(1),
    )
    .withPanel(
      stat('Model load time', 'Seconds the last model load (including warm-up) took.', 's', queries([`${M.modelLoad.name}${svc()}`, '{{instance}}']), 12)
        .height(8)
        .textMode(common.BigValueTextMode.ValueAndName),
    );

  // --- Resources ---------------------------------------------------------------------------------------
  builder.withRow(new RowBuilder('Resources'));
  builder
    .withPanel(
      timeseries(
        'Process CPU',
        'CPU cores used by the service process (user + system).',
        'short',
        queries([`rate(${D.processCpu.name}${svc()}${RATE})`, '{{instance}}']),
      ).min(0),
    )
    .withPanel(
      timeseries(
        'Process memory',
        'Resident memory (model weights and onnxruntime arenas live outside the V8 heap) and V8 heap used.',
        'bytes',
        queries(
          [`${D.processResidentMemory.name}${svc()}`, 'resident {{instance}}'],
          [`${D.heapUsed.name}${svc()}`, 'heap used {{instance}}'],
          [`${D.externalMemory.name}${svc()}`, 'external {{instance}}'],
        ),
      ).min(0),
    )
    .withPanel(
      timeseries(
        'Event loop lag (P99)',
        'Node.js event loop delay: high values mean CPU work is blocking the HTTP server.',
        's',
        queries([`${D.eventLoopLagP99.name}${svc()}`, '{{instance}}']),
      ).min(0),
    )
    .withPanel(
      timeseries(
        'Host CPU (node exporter)',
        'Share of CPU time not idle, per host.',
        'percentunit',
        queries([`1 - avg by (instance) (rate(node_cpu_seconds_total{job="${JOB.nodeExporter}", mode="idle"}${RATE}))`, '{{instance}}']),
      )
        .min(0)
        .max(1),
    )
    .withPanel(
      timeseries(
        'Host memory used (node exporter)',
        'Share of memory not available (1 - MemAvailable / MemTotal); HostMemoryLow fires above 90 % for 10m.',
        'percentunit',
        queries([`1 - node_memory_MemAvailable_bytes${NODE} / node_memory_MemTotal_bytes${NODE}`, '{{instance}}']),
      )
        .min(0)
        .max(1)
        .thresholds(thresholdAt(0.9))
        .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed)),
    )
    .withPanel(
      timeseries(
        'GPU memory',
        'GPU memory used and total (CUDA deployments only; empty on CPU). DCGM exporter series shown when it is scraped.',
        'bytes',
        queries(
          [`${M.gpuMemoryUsed.name}${svc()}`, 'used {{instance}}'],
          [`${M.gpuMemoryTotal.name}${svc()}`, 'total {{instance}}'],
          ['DCGM_FI_DEV_FB_USED * 1024 * 1024', 'DCGM used GPU {{gpu}} {{Hostname}}'],
        ),
      ).min(0),
    )
    .withPanel(
      timeseries(
        'GPU utilisation',
        'GPU utilisation of the device running the model (CUDA deployments only), and DCGM exporter when scraped.',
        'percentunit',
        queries([`${M.gpuUtilization.name}${svc()}`, '{{instance}}'], ['DCGM_FI_DEV_GPU_UTIL / 100', 'DCGM GPU {{gpu}} {{Hostname}}']),
      )
        .min(0)
        .max(1),
    );

  return builder.build();
}
