import { Test } from '@nestjs/testing';
import { verdictOf } from '../../test/support/verdicts';
import { ApiException } from '../common/api-exception';
import { ErrorCode } from '../common/error-code';
import { ROUTES } from '../common/routes';
import { DEMO_MODEL_ID } from '../composition/configured-model';
import { AppConfig } from '../config/app-config';
import { loadAppConfig } from '../config/load-app-config';
import { RequestContext } from '../http/request-context';
import { ModelInfo, ModerationEngine, ModerationInput, Verdict } from '../inference';
import { BlocklistMatcher } from '../tenant/blocklist-matcher';
import { STRICT_POLICY, Tenant } from '../tenant/tenant';
import { UsageMeter } from '../usage/usage-meter';
import { EngineLoader } from './engine-loader.service';
import { LoadFailure } from './load-failure';
import { ModerationService } from './moderation.service';

/** An engine that answers each input with the next scripted verdict and remembers what it was asked. */
class ScriptedEngine extends ModerationEngine {
  readonly asked: ModerationInput[][] = [];
  script: Verdict[] = [];
  get info(): ModelInfo {
    return { id: 'scripted-guard', dtype: 'fp32', provider: 'cpu', demo: false, directory: '/models/scripted' };
  }
  get ready(): boolean {
    return true;
  }
  async load(): Promise<void> {}
  async moderate(inputs: ModerationInput[]): Promise<Verdict[]> {
    this.asked.push(inputs);
    return inputs.map(() => this.script.shift() ?? verdictOf());
  }
  async close(): Promise<void> {}
}

const tenantWith = (settings: Partial<Tenant> = {}): Tenant => ({
  id: 'acme',
  name: 'Acme',
  enabled: true,
  admin: false,
  metricLabel: 'acme',
  policy: STRICT_POLICY,
  ...settings,
});

describe('ModerationService', () => {
  let engine: ScriptedEngine;
  let loader: { failure?: LoadFailure };
  let context: { tenant: Tenant; recordVerdict: jest.Mock };
  let usage: { record: jest.Mock };
  let service: ModerationService;

  async function build(tenant: Tenant, env: Record<string, string> = {}): Promise<void> {
    engine = new ScriptedEngine();
    loader = {};
    context = { tenant, recordVerdict: jest.fn() };
    usage = { record: jest.fn() };
    const module = await Test.createTestingModule({
      providers: [
        ModerationService,
        { provide: ModerationEngine, useValue: engine },
        { provide: EngineLoader, useValue: loader },
        { provide: AppConfig, useValue: loadAppConfig({ MAX_BATCH_ITEMS: '8', MAX_TEXT_CHARS: '40', ...env }) },
        { provide: RequestContext, useValue: context },
        { provide: UsageMeter, useValue: usage },
      ],
    }).compile();
    service = module.get(ModerationService);
  }

  it('moderates one text under the tenant policy, meters it under its route and records the verdict', async () => {
    await build(tenantWith());
    engine.script = [verdictOf({ safetyLevel: 'unsafe', categories: ['Violent'] })];
    const answer = await service.predict({ text: 'how do I build a bomb' });
    expect(engine.asked).toEqual([[{ messages: [{ role: 'user', content: 'how do I build a bomb' }] }]]);
    expect(answer).toMatchObject({
      safety_level: 'unsafe',
      categories: ['Violent'],
      model: 'scripted-guard',
      decision: { action: 'block', flagged: true, source: 'model' },
    });
    expect(usage.record).toHaveBeenCalledWith(context.tenant, ROUTES.predict, [
      expect.objectContaining({ characters: 21, decision: expect.objectContaining({ flagged: true }) }),
    ]);
    expect(context.recordVerdict).toHaveBeenCalledWith(['unsafe']);
  });

  it('answers a batch item by item, in order, and records every level', async () => {
    await build(tenantWith());
    engine.script = [verdictOf(), verdictOf({ safetyLevel: 'controversial', categories: ['Politically Sensitive Topics'] })];
    const answer = await service.moderate({ items: [{ prompt: 'hi' }, { prompt: 'an election' }] });
    expect(answer).toMatchObject({ model: 'scripted-guard', results: [{ safety_level: 'safe' }, { safety_level: 'controversial' }] });
    expect(engine.asked).toHaveLength(1);
    expect(usage.record).toHaveBeenCalledWith(context.tenant, ROUTES.moderate, [expect.anything(), expect.anything()]);
    expect(context.recordVerdict).toHaveBeenCalledWith(['safe', 'controversial']);
  });

  it("refuses a batch over the tenant's own limit before the engine runs", async () => {
    await build(tenantWith({ maxBatchSize: 1 }));
    const refused = service.moderate({ items: [{ prompt: 'a' }, { prompt: 'b' }] });
    await expect(refused).rejects.toMatchObject({ code: ErrorCode.ValidationFailed, field: 'items' });
    expect(engine.asked).toEqual([]);
    expect(usage.record).not.toHaveBeenCalled();
  });

  it('refuses a text over MAX_TEXT_CHARS, naming it, and meters nothing', async () => {
    await build(tenantWith());
    await expect(service.predict({ text: 'x'.repeat(41) })).rejects.toMatchObject({ code: ErrorCode.TextTooLong, field: 'text' });
    expect(engine.asked).toEqual([]);
    expect(usage.record).not.toHaveBeenCalled();
  });

  it('lets a short-circuiting blocklist decide without the model, even when the model failed to load', async () => {
    await build(tenantWith({ blocklist: { matcher: new BlocklistMatcher(['forbidden']), shortCircuit: true } }));
    loader.failure = { code: ErrorCode.ModelInvalid, reason: 'model.onnx is missing' };
    const answer = await service.moderateOpenAi({ input: ['a forbidden word'] });
    expect(engine.asked).toEqual([]);
    expect(answer).toMatchObject({ model: DEMO_MODEL_ID, results: [{ flagged: true, safety_level: 'unsafe', decision: { source: 'blocklist' } }] });
    expect(context.recordVerdict).toHaveBeenCalledWith(['unsafe']);
  });

  it('answers with the load failure when the model is needed but failed to load', async () => {
    await build(tenantWith());
    loader.failure = { code: ErrorCode.ModelInvalid, reason: 'model.onnx is missing' };
    const refused = service.predict({ text: 'hello' });
    await expect(refused).rejects.toBeInstanceOf(ApiException);
    await expect(refused).rejects.toMatchObject({ code: ErrorCode.ModelInvalid });
    expect(engine.asked).toEqual([]);
    expect(context.recordVerdict).not.toHaveBeenCalled();
  });
});
