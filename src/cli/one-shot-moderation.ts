import { AppConfig } from '../config/app-config';
import { OnnxModerationEngine, ModerationInput } from '../inference';
import { configuredModel, DEMO_MODEL_WARNING, engineOptions, resolveModelDirectory } from '../composition/configured-model';
import type { ModerateResponseDto } from '../moderation/dto/moderation-result.dto';
import { modelOutcome } from '../moderation/moderation-outcome';
import { toModerationResult } from '../moderation/verdict-response.mapper';
import { STRICT_POLICY } from '../tenant/tenant';

/**
 * One verdict with the framework-free engine, outside the service: the model the configuration selects
 * (the same resolution as the service), loaded, used once and closed. Status lines go to stderr.
 */
export async function moderateOnce(config: AppConfig, input: ModerationInput): Promise<ModerateResponseDto> {
  const model = configuredModel(config);
  if (model.demo) status(`warning: ${DEMO_MODEL_WARNING}`);
  status(`loading ${model.id} (${model.dtype}, ${model.provider})…`);
  const started = performance.now();
  const engine = new OnnxModerationEngine(engineOptions(config, await resolveModelDirectory(config)), {
    log: () => undefined,
    warn: (message) => status(`warning: ${message}`),
    error: (message) => status(`error: ${message}`),
  });
  try {
    await engine.load();
    status(`loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const [verdict] = await engine.moderate([input]);
    // Outside the service there is no tenant: the decision is the strict default policy's.
    return { model: engine.info.id, ...toModerationResult(modelOutcome(input, verdict, STRICT_POLICY)) };
  } finally {
    await engine.close();
  }
}

function status(line: string): void {
  process.stderr.write(`${line}\n`);
}
