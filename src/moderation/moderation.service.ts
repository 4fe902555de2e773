import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ModerationEngine } from '../inference/moderation-engine';
import { Verdict } from '../inference/verdict';
import { ModerateRequestDto } from './dto/moderate-request.dto';
import { ModerateBatchResponseDto, ModerateResponseDto } from './dto/moderation-result.dto';
import { OpenAiModerationRequestDto } from './dto/openai-moderation-request.dto';
import { OpenAiModerationResponseDto } from './dto/openai-moderation-response.dto';
import { PredictRequestDto } from './dto/predict-request.dto';
import { PredictResponseDto } from './dto/predict-response.dto';
import { toOpenAiModerationResponse } from './openai-moderation.mapper';
import { fromItem, fromPrompt, LocatedInput } from './request-inputs';
import { assertBatchFits, assertTextsFit } from './text-limits';
import { toMilliseconds, toModerationResult, toPredictResponse } from './verdict-response.mapper';

interface Moderated {
  verdicts: Verdict[];
  model: string;
  latencyMs: number;
}

/** Turns validated request bodies into engine inputs, runs them, and shapes the verdicts per endpoint. */
@Injectable()
export class ModerationService {
  constructor(
    private readonly engine: ModerationEngine,
    private readonly config: AppConfig,
  ) {}

  async predict(body: PredictRequestDto): Promise<PredictResponseDto> {
    const { verdicts, model, latencyMs } = await this.run([fromPrompt(body.text, 'text')]);
    return toPredictResponse(verdicts[0], model, latencyMs);
  }

  async moderate(body: ModerateRequestDto): Promise<ModerateResponseDto | ModerateBatchResponseDto> {
    if (body.items) {
      assertBatchFits(body.items.length, 'items', this.config.MAX_BATCH_ITEMS);
      const { verdicts, model } = await this.run(body.items.map((item, index) => fromItem(item, `items.${index}.`)));
      return { model, results: verdicts.map(toModerationResult) };
    }
    const { verdicts, model } = await this.run([fromItem(body, '')]);
    return { model, ...toModerationResult(verdicts[0]) };
  }

  async moderateOpenAi(body: OpenAiModerationRequestDto): Promise<OpenAiModerationResponseDto> {
    const inputs = Array.isArray(body.input)
      ? body.input.map((text, index) => fromPrompt(text, `input.${index}`))
      : [fromPrompt(body.input, 'input')];
    assertBatchFits(inputs.length, 'input', this.config.MAX_BATCH_ITEMS);
    const { verdicts, model } = await this.run(inputs);
    return toOpenAiModerationResponse(verdicts, model);
  }

  private async run(located: LocatedInput[]): Promise<Moderated> {
    assertTextsFit(
      located.flatMap(({ texts }) => texts),
      this.config.MAX_TEXT_CHARS,
    );
    const started = performance.now();
    const verdicts = await this.engine.moderate(located.map(({ input }) => input));
    const latencyMs = toMilliseconds((performance.now() - started) / 1000);
    return { verdicts, model: this.engine.info.id, latencyMs };
  }
}
