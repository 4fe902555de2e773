import { randomUUID } from 'node:crypto';
import { Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import { ApiException } from '../common/api-exception';
import { ErrorCode } from '../common/error-code';
import { AppConfig } from '../config/app-config';
import { ChatMessage, ModerationEngine, ModerationStream, StreamCheck } from '../inference';
import { ServiceMetrics } from '../metrics/service-metrics';
import { EngineLoader } from '../moderation/engine-loader.service';
import { loadFailureException } from '../moderation/load-failure';
import { ModerationOutcome, modelOutcome } from '../moderation/moderation-outcome';
import { fromItem } from '../moderation/request-inputs';
import { assertTextsFit } from '../moderation/text-limits';
import { toModerationResult } from '../moderation/verdict-response.mapper';
import { RequestContext } from '../http/request-context';
import { ROUTES } from '../common/routes';
import { UsageMeter } from '../usage/usage-meter';
import { AppendChunkRequestDto } from './dto/append-chunk-request.dto';
import { OpenStreamRequestDto } from './dto/open-stream-request.dto';
import { StreamStateDto } from './dto/stream-state.dto';

/** The ledger's endpoint for stream checks (one row per check). */

/** A sentence ends here: a check is due even before the token count says so. */
const SENTENCE_END = /[.!?。！？…]["'”’)\]]*\s*$/u;

/** A check and how the tenant's policy decided on it. */
interface DecidedCheck {
  check: StreamCheck;
  outcome: ModerationOutcome;
}

interface StreamSession {
  id: string;
  tenantId: string;
  stream: ModerationStream;
  messages: ChatMessage[];
  answer: string;
  checkEvery: number;
  closeOnUnsafe: boolean;
  tokensAtLastCheck: number;
  lastUsed: number;
  closed: boolean;
}

/**
 * Moderation streams under their tenants: open, append (checking when due), close. Limits: open streams
 * per tenant (429) and in total (503), both refused with Retry-After (when the oldest idle stream times
 * out); KV positions held across streams, kept by evicting the least recently used streams' caches (their
 * next check recomputes from the template prefix). Another tenant's stream id is answered as unknown.
 */
@Injectable()
export class StreamingService implements OnModuleDestroy {
  private readonly sessions = new Map<string, StreamSession>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly engine: ModerationEngine,
    private readonly loader: EngineLoader,
    private readonly config: AppConfig,
    private readonly context: RequestContext,
    private readonly usage: UsageMeter,
    @Optional() private readonly metrics?: ServiceMetrics,
  ) {
    this.sweeper = setInterval(() => this.closeIdle(), Math.min(5_000, config.STREAM_IDLE_TIMEOUT_MS / 4));
    this.sweeper.unref();
  }

  open(body: OpenStreamRequestDto): StreamStateDto {
    const { messages, texts } = this.conversationOf(body);
    assertTextsFit(texts, this.config.MAX_TEXT_CHARS);
    const tenantId = this.context.tenant.id;
    this.assertRoomFor(tenantId);
    if (this.loader.failure) throw loadFailureException(this.loader.failure);
    const session: StreamSession = {
      id: randomUUID(),
      tenantId,
      stream: this.engine.openStream(messages),
      messages,
      answer: '',
      checkEvery: body.check_every_tokens ?? this.config.STREAM_CHECK_EVERY_TOKENS,
      closeOnUnsafe: body.close_on_unsafe ?? false,
      tokensAtLastCheck: 0,
      lastUsed: performance.now(),
      closed: false,
    };
    this.sessions.set(session.id, session);
    this.metrics?.streamSessions.set(this.sessions.size);
    return this.stateOf(session);
  }

  async append(id: string, body: AppendChunkRequestDto): Promise<StreamStateDto> {
    const session = this.sessionOf(id);
    if (body.text.length > this.config.STREAM_MAX_CHUNK_CHARS) {
      throw new ApiException(ErrorCode.TextTooLong, `a chunk may hold at most ${this.config.STREAM_MAX_CHUNK_CHARS} characters`, { field: 'text' });
    }
    if (session.answer.length + body.text.length > this.config.MAX_TEXT_CHARS) {
      throw new ApiException(ErrorCode.TextTooLong, `the streamed answer may hold at most ${this.config.MAX_TEXT_CHARS} characters`, { field: 'text' });
    }
    session.lastUsed = performance.now();
    session.stream.append(body.text);
    session.answer += body.text;
    if (!this.checkDue(session, body)) return this.stateOf(session);
    return this.stateOf(session, await this.check(session));
  }

  close(id: string): StreamStateDto {
    const session = this.sessionOf(id);
    this.closeSession(session);
    return this.stateOf(session);
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
    for (const session of this.sessions.values()) this.closeSession(session);
  }

  private checkDue(session: StreamSession, body: AppendChunkRequestDto): boolean {
    const newTokens = session.stream.answerTokens - session.tokensAtLastCheck;
    return body.check === true || newTokens >= session.checkEvery || (newTokens > 0 && SENTENCE_END.test(body.text));
  }

  private async check(session: StreamSession): Promise<DecidedCheck> {
    session.tokensAtLastCheck = session.stream.answerTokens;
    const messages: ChatMessage[] = [...session.messages, { role: 'assistant', content: session.answer }];
    const check = await session.stream.check();
    const tenant = this.context.tenant;
    const outcome = modelOutcome({ messages }, check.verdict, tenant.policy, this.blocklistHit(messages));
    await this.usage.record(tenant, ROUTES.streams, [outcome]);
    this.context.recordVerdict([check.verdict.safetyLevel]);
    this.metrics?.streamChecks.inc();
    this.metrics?.streamTokens.inc({ kind: 'reused' }, check.reusedTokens);
    this.metrics?.streamTokens.inc({ kind: 'computed' }, check.computedTokens);
    if (session.closeOnUnsafe && check.verdict.safetyLevel === 'unsafe') this.closeSession(session);
    this.keepKvWithinBudget(session);
    return { check, outcome };
  }

  /**
   * Whether the tenant's blocklist matches the conversation and the answer so far: a hit decides `block` as on
   * /v1/moderate. The model still runs (no short circuit): a stream's checks build on each other's cache, and
   * its first_flag stays the model's.
   */
  private blocklistHit(messages: readonly ChatMessage[]): boolean {
    return this.context.tenant.blocklist?.matcher.matchesAny(messages.map(({ content }) => content)) ?? false;
  }

  /** Drops the least recently used streams' caches until all of them fit STREAM_MAX_KV_TOKENS. */
  private keepKvWithinBudget(current: StreamSession): void {
    let held = 0;
    for (const session of this.sessions.values()) held += session.stream.cachedTokens;
    const byAge = [...this.sessions.values()].filter((session) => session !== current).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const session of [...byAge, current]) {
      if (held <= this.config.STREAM_MAX_KV_TOKENS) return;
      const tokens = session.stream.cachedTokens;
      if (tokens === 0) continue;
      session.stream.evict();
      held -= tokens;
      this.metrics?.streamEvictions.inc();
    }
  }

  /** The conversation a stream answers: `prompt` or `messages` (system turns left out), ending with the user. */
  private conversationOf(body: OpenStreamRequestDto) {
    if ((body.prompt === undefined) === (body.messages === undefined)) {
      throw new ApiException(ErrorCode.ValidationFailed, 'send exactly one of `prompt` or `messages`');
    }
    const { input, texts } = fromItem({ prompt: body.prompt, messages: body.messages }, '');
    const last = input.messages[input.messages.length - 1];
    if (last?.role !== 'user')
      throw new ApiException(ErrorCode.ValidationFailed, 'the conversation must end with the user turn the streamed answer replies to', { field: 'messages' });
    return { messages: input.messages, texts };
  }

  private assertRoomFor(tenantId: string): void {
    const open = [...this.sessions.values()];
    const retryAfter = this.secondsUntilOneIdles(open);
    if (open.filter((session) => session.tenantId === tenantId).length >= this.config.STREAM_MAX_SESSIONS_PER_TENANT) {
      throw new ApiException(ErrorCode.StreamLimitReached, `at most ${this.config.STREAM_MAX_SESSIONS_PER_TENANT} streams may be open per tenant; close one`, {
        retryAfterSeconds: retryAfter,
      });
    }
    if (open.length >= this.config.STREAM_MAX_SESSIONS) {
      throw new ApiException(ErrorCode.StreamCapacityReached, 'the service holds as many streams as it may; retry later', { retryAfterSeconds: retryAfter });
    }
  }

  /** When the least recently used stream times out, if nobody touches it: when a place frees at the latest. */
  private secondsUntilOneIdles(open: readonly StreamSession[]): number {
    const oldest = Math.min(...open.map((session) => session.lastUsed));
    return Math.max(1, Math.ceil((oldest + this.config.STREAM_IDLE_TIMEOUT_MS - performance.now()) / 1000));
  }

  /** The caller's open stream; any other id (unknown, closed, another tenant's) is not found, saying nothing more. */
  private sessionOf(id: string): StreamSession {
    const session = this.sessions.get(id);
    if (!session || session.tenantId !== this.context.tenant.id) {
      throw new ApiException(ErrorCode.NotFound, 'no open stream with this id');
    }
    return session;
  }

  private closeSession(session: StreamSession): void {
    if (session.closed) return;
    session.closed = true;
    session.stream.close();
    this.sessions.delete(session.id);
    this.metrics?.streamSessions.set(this.sessions.size);
  }

  private closeIdle(): void {
    const now = performance.now();
    for (const session of this.sessions.values()) {
      if (now - session.lastUsed >= this.config.STREAM_IDLE_TIMEOUT_MS) this.closeSession(session);
    }
  }

  private stateOf(session: StreamSession, decided?: DecidedCheck): StreamStateDto {
    const { stream } = session;
    const flag = stream.firstFlag;
    return {
      id: session.id,
      model: this.engine.info.id,
      answer_chars: session.answer.length,
      answer_tokens: stream.answerTokens,
      checks: stream.checkCount,
      closed: session.closed,
      first_flag: flag && { check: flag.check, answer_chars: flag.answerChars, safety_level: flag.safetyLevel },
      ...(decided && {
        check: {
          check: decided.check.check,
          answer_chars: decided.check.answerChars,
          reused_tokens: decided.check.reusedTokens,
          computed_tokens: decided.check.computedTokens,
          result: toModerationResult(decided.outcome),
        },
      }),
    };
  }
}
