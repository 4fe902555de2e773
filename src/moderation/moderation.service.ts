import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RequestContext } from '../http/request-context';
import { ModerationEngine, PromptEncoder, Verdict } from '../inference';
import { Tenant } from '../tenant/tenant';
import { UsageMeter } from '../usage/usage-meter';
import { configuredModel } from '../composition/configured-model';
import { EngineLoader } from './engine-loader.service';
import { loadFailureException } from './load-failure';
import { ModerateRequestDto } from './dto/moderate-request.dto';
import { ModerateBatchResponseDto, ModerateResponseDto } from './dto/moderation-result.dto';
import { OpenAiModerationRequestDto } from './dto/openai-moderation-request.dto';
import { OpenAiModerationResponseDto } from './dto/openai-moderation-response.dto';
import { PredictRequestDto } from './dto/predict-request.dto';
import { PredictResponseDto } from './dto/predict-response.dto';
import { blocklistOutcome, ModerationOutcome, modelOutcome } from './moderation-outcome';
import { toOpenAiModerationResponse } from './openai-moderation.mapper';
import { fromItem, fromOpenAiInput, fromPrompt, LocatedInput } from './request-inputs';
import { assertBatchFits, assertTextsFit } from './text-limits';
import { reportedSafetyLevel, toMilliseconds, toModerationResult, toPredictResponse } from './verdict-response.mapper';
import { ModerationRoute, ROUTES } from '../common/routes';

interface Moderated {
  outcomes: ModerationOutcome[];
  model: string;
  latencyMs: number;
}

/**
 * Turns validated request bodies into engine inputs, runs them under the caller's tenant (blocklist first,
 * then the model, then the tenant's policy), meters them, and shapes the answers per endpoint.
 */
@Injectable()
export class ModerationService {
  constructor(
    private readonly engine: ModerationEngine,
    private readonly loader: EngineLoader,
    private readonly config: AppConfig,
    private readonly context: RequestContext,
    private readonly usage: UsageMeter,
  ) {}

  async predict(body: PredictRequestDto): Promise<PredictResponseDto> {
    const { outcomes, model, latencyMs } = await this.run(ROUTES.predict, [fromPrompt(body.text, 'text')]);
    return toPredictResponse(outcomes[0], model, latencyMs);
  }

  async moderate(body: ModerateRequestDto): Promise<ModerateResponseDto | ModerateBatchResponseDto> {
    if (body.items) {
      this.assertBatchFits(body.items.length, 'items');
      const { outcomes, model } = await this.run(
        ROUTES.moderate,
        body.items.map((item, index) => fromItem(item, `items.${index}.`)),
      );
      return { model, results: outcomes.map(toModerationResult) };
    }
    const { outcomes, model } = await this.run(ROUTES.moderate, [fromItem(body, '')]);
    return { model, ...toModerationResult(outcomes[0]) };
  }

  async moderateOpenAi(body: OpenAiModerationRequestDto): Promise<OpenAiModerationResponseDto> {
    const inputs = fromOpenAiInput(body.input);
    this.assertBatchFits(inputs.length, 'input');
    const { outcomes, model } = await this.run(ROUTES.moderations, inputs);
    return toOpenAiModerationResponse(outcomes, model);
  }

  /** The service-wide limit, or the tenant's own when it is lower. */
  private assertBatchFits(count: number, field: string): void {
    assertBatchFits(count, field, Math.min(this.config.MAX_BATCH_ITEMS, this.context.tenant.maxBatchSize ?? Infinity));
  }

  private async run(endpoint: ModerationRoute, located: LocatedInput[]): Promise<Moderated> {
    assertTextsFit(
      located.flatMap(({ texts }) => texts),
      this.config.MAX_TEXT_CHARS,
    );
    const tenant = this.context.tenant;
    const started = performance.now();
    const blocked = located.map((input) => blocklistHit(tenant, input));
    const needsModel = located.filter((_, index) => !(blocked[index] && tenant.blocklist?.shortCircuit));
    if (needsModel.length > 0 && this.loader.failure) throw loadFailureException(this.loader.failure);
    const verdicts = needsModel.length > 0 ? await this.engine.moderate(needsModel.map(({ input }) => input)) : [];
    const latencyMs = toMilliseconds((performance.now() - started) / 1000);
    const outcomes = this.outcomes(tenant, located, blocked, verdicts);
    // Before the response exists: an answered request is always in the ledger.
    await this.usage.record(tenant, endpoint, outcomes);
    this.context.recordVerdict(outcomes.map(reportedSafetyLevel));
    return { outcomes, model: verdicts.length > 0 ? this.engine.info.id : configuredModel(this.config).id, latencyMs };
  }

  /** Pairs the inputs with their verdicts (the short-circuited ones have none) and the tenant's decisions. */
  private outcomes(tenant: Tenant, located: readonly LocatedInput[], blocked: readonly boolean[], verdicts: readonly Verdict[]): ModerationOutcome[] {
    let next = 0;
    return located.map(({ input }, index) =>
      blocked[index] && tenant.blocklist?.shortCircuit
        ? blocklistOutcome(input, PromptEncoder.modeOf(input.messages))
        : modelOutcome(input, verdicts[next++], tenant.policy, blocked[index]),
    );
  }
}

function blocklistHit(tenant: Tenant, { texts }: LocatedInput): boolean {
  return tenant.blocklist?.matcher.matchesAny(texts.map(({ text }) => text)) ?? false;
}
