import { metricNamesInPromQL } from './promql';

describe('metricNamesInPromQL', () => {
  it.each([
    ['up', ['up']],
    ['up{job="a"} == 0', ['up']],
    ['sum by (job) (rate(x_total{status="error", code!~"4.."}[5m])) / (sum by (job) (rate(x_total[5m])) > 0)', ['x_total']],
    ['sum(rate(a[5m])) by (le, endpoint)', ['a']],
    ['histogram_quantile(0.95, sum by (le) (rate(h_bucket{job="$job", instance=~"$instance"}[$__rate_interval])))', ['h_bucket']],
    [
      'process_resident_memory_bytes{job="x"} / on (host) group_left () node_memory_MemTotal_bytes{job="y"} > 0.85',
      ['process_resident_memory_bytes', 'node_memory_MemTotal_bytes'],
    ],
    ['absent(up{job="a"} == 1 and on (job, instance) ready == 1)', ['up', 'ready']],
    ['job:errors:ratio_rate1h > (14.4 * 0.005) and job:errors:ratio_rate5m > (14.4 * 0.005)', ['job:errors:ratio_rate1h', 'job:errors:ratio_rate5m']],
    ['1 - a_bucket{le=~"2(\\\\.0)?"} offset 1h', ['a_bucket']],
    ['(sum(rate(e[1d])) or vector(0)) / sum(rate(t[1d]))', ['e', 't']],
    ['{__name__="by_name_total"}', ['by_name_total']],
    ['sum without (instance) (g) > 1e-9 unless h', ['g', 'h']],
    ['DCGM_FI_DEV_FB_USED * 1024 * 1024', ['DCGM_FI_DEV_FB_USED']],
    ['label_replace(m, "host", "$1", "instance", "(.*):\\\\d+")', ['m']],
    ['increase(v[$__range]) + ignoring (kind) group_right w', ['v', 'w']],
    ['count(x) bool > 2 and inf > nan', ['x']],
    ['max_over_time(m[1h:5m])', ['m']],
  ])('%s', (expr, names) => {
    expect(metricNamesInPromQL(expr)).toEqual(names);
  });

  it('rejects unbalanced braces rather than guessing', () => {
    expect(() => metricNamesInPromQL('up{job="a"')).toThrow(/Unbalanced/);
  });
});
