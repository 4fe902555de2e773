import AhoCorasick from 'modern-ahocorasick';

/**
 * Compatibility normalization, then lower case: full-width Latin letters and digits become ASCII, half-width
 * katakana become full-width, ligatures split, and case no longer matters. Applied to the terms and to
 * every text alike, so `ＢＡＤ`, `Bad` and `bad` all match the term `bad`.
 */
export function normalizeForMatching(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/**
 * A tenant's blocklist: every term found in one pass over the text, whatever the number of terms
 * (Aho-Corasick, linear in the text's length). Terms match anywhere, inside words too: CJK text has no
 * spaces to mark word boundaries.
 */
export class BlocklistMatcher {
  private readonly automaton: AhoCorasick;

  constructor(terms: readonly string[]) {
    const normalized = [...new Set(terms.map(normalizeForMatching).filter((term) => term.length > 0))];
    if (normalized.length === 0) throw new Error('a blocklist needs at least one non-empty term');
    this.automaton = new AhoCorasick(normalized);
  }

  /** Whether any term occurs in any of the texts. */
  matchesAny(texts: readonly string[]): boolean {
    return texts.some((text) => this.automaton.match(normalizeForMatching(text)));
  }
}
