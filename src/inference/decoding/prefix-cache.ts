import { DecoderSession, KvCache } from '../runtime/decoder-session';
import { PREFILL_CHUNK_TOKENS, prefill } from './prefill';
import { PromptEncoder } from '../answer-format/prompt-encoder';
import { templatePrefix } from '../answer-format/template-lengths';
import { ModerationMode } from '../verdict';

interface CachedPrefix {
  tokens: number[];
  cache: KvCache;
}

/**
 * The keys and values of the fixed text a Qwen3Guard-Gen template puts before the conversation (the
 * task, policy and category blocks), computed once per mode at load. The prefix is found, not written
 * down: the template is rendered around two different conversations and their common token prefix is
 * what every request of that mode starts with. A request whose tokens do not start with it (a template
 * that puts something variable first, a merge across the boundary) simply misses.
 */
export class PrefixCache {
  private tiled: { mode: ModerationMode; batch: number; cache: KvCache } | null = null;

  private constructor(
    private readonly session: DecoderSession,
    private readonly prefixes: Record<ModerationMode, CachedPrefix>,
  ) {}

  static async build(session: DecoderSession, encoder: PromptEncoder): Promise<PrefixCache> {
    const prefixes = {} as Record<ModerationMode, CachedPrefix>;
    for (const mode of ['prompt', 'response'] as const) {
      const tokens = templatePrefix(encoder, mode);
      // Only the keys and values are wanted: no logits come back.
      const step = tokens.length > 0 ? await prefill(session, tokens, PREFILL_CHUNK_TOKENS, session.emptyCache(1), { positions: 1, ids: [] }) : null;
      prefixes[mode] = { tokens, cache: step?.cache ?? session.emptyCache(1) };
    }
    return new PrefixCache(session, prefixes);
  }

  prefixLength(mode: ModerationMode): number {
    return this.prefixes[mode].tokens.length;
  }

  /** Whether `prompt` starts with the mode's cached prefix and has tokens beyond it. */
  covers(mode: ModerationMode, prompt: readonly number[]): boolean {
    const { tokens } = this.prefixes[mode];
    return tokens.length > 0 && prompt.length > tokens.length && tokens.every((id, i) => prompt[i] === id);
  }

  /**
   * The prefix cache for `batch` rows, lent to one batch (`shared`: its passes leave it in place). The last
   * tiled copy is kept, as batches tend to repeat sizes; one batch runs at a time, so replacing it is safe.
   */
  async cacheFor(mode: ModerationMode, batch: number): Promise<KvCache> {
    if (batch === 1) return { ...this.prefixes[mode].cache, shared: true };
    if (this.tiled?.mode !== mode || this.tiled.batch !== batch) {
      if (this.tiled) this.session.discard(this.tiled.cache);
      this.tiled = null; // not left pointing at a dropped copy if tiling fails
      this.tiled = { mode, batch, cache: await this.session.tileCache(this.prefixes[mode].cache, batch) };
    }
    return { ...this.tiled.cache, shared: true };
  }
}
