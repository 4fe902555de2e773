import { PromptEncoder } from './prompt-encoder';
import { ModerationMode, RISK_CATEGORIES, RiskCategory, SAFETY_LEVELS, SafetyLevel } from '../verdict';

/** A category name as the model writes it after `Categories:` or `, `: with its leading space. */
type CategoryName = RiskCategory | 'None';

interface TrieNode {
  children: Map<number, TrieNode>;
  /** Set where a whole category name ends. */
  category?: CategoryName;
  /** Every category name ending in this node's subtree. */
  reachable: Set<CategoryName>;
}

/**
 * The token-level shape of a Qwen3Guard-Gen answer, built from the model's own tokenizer:
 *   `Safety: <level>\nCategories: <name>[, <name>]*` [`\nRefusal: <Yes|No>`] `<|im_end|>`.
 * Verdict-constrained decoding walks it: fixed pieces are prefilled, never decoded one by one, and only
 * real choices (the level, each category, the separator, Yes/No) read the model's logits, restricted to
 * the tokens the format allows there.
 */
export class AnswerGrammar {
  readonly verdictCue: number[];
  readonly levelTokens: Record<SafetyLevel, number[]>;
  readonly categoriesCue: number[];
  readonly separator: number;
  readonly refusalCue: number[];
  readonly refusalTokens: { yes: number; no: number };
  readonly end: number;
  readonly noneTokens: number[];
  private readonly tries: Record<ModerationMode, TrieNode>;
  private readonly categoryLengths = new Map<CategoryName, number>();
  private readonly choices: number[];

  constructor(encoder: PromptEncoder) {
    const single = (text: string) => {
      const ids = encoder.tokenize(text);
      if (ids.length !== 1) throw new Error(`expected ${JSON.stringify(text)} to be one token, got ${ids.length}`);
      return ids[0];
    };
    this.verdictCue = encoder.tokenize('Safety:');
    this.levelTokens = { safe: encoder.tokenize(' Safe'), controversial: encoder.tokenize(' Controversial'), unsafe: encoder.tokenize(' Unsafe') };
    this.categoriesCue = encoder.tokenize('\nCategories:');
    this.separator = single(',');
    this.refusalCue = encoder.tokenize('\nRefusal:');
    this.refusalTokens = { yes: single(' Yes'), no: single(' No') };
    this.end = single('<|im_end|>');
    this.noneTokens = encoder.tokenize(' None');
    // Jailbreak is a prompt-moderation category only.
    const names = (mode: ModerationMode): CategoryName[] => [...RISK_CATEGORIES.filter((name) => mode === 'prompt' || name !== 'Jailbreak'), 'None'];
    for (const name of names('prompt')) this.categoryLengths.set(name, encoder.tokenize(` ${name}`).length);
    this.tries = {
      prompt: buildTrie(names('prompt').map((name) => [name, encoder.tokenize(` ${name}`)])),
      response: buildTrie(names('response').map((name) => [name, encoder.tokenize(` ${name}`)])),
    };
    const categoryTokens = names('prompt').flatMap((name) => encoder.tokenize(` ${name}`));
    this.choices = [
      ...new Set([...this.levelChoices, ...categoryTokens, this.separator, this.end, this.refusalCue[0], this.refusalTokens.yes, this.refusalTokens.no]),
    ];
  }

  /** First token of each level, in SAFETY_LEVELS order: the verdict choice reads these logits. */
  get levelChoices(): number[] {
    return SAFETY_LEVELS.map((level) => this.levelTokens[level][0]);
  }

  /** Every token a choice may compare: the levels, the tokens of every category name, the separator, the ends, Yes/No. */
  get choiceIds(): readonly number[] {
    return this.choices;
  }

  /**
   * How many tokens plain greedy decoding writes for this answer (the stop token excluded): the same
   * count whichever path produced the verdict.
   */
  answerLength(mode: ModerationMode, level: SafetyLevel, categories: readonly RiskCategory[], refusal: boolean | null): number {
    const names = categories.length > 0 ? categories : ['None' as const];
    const categoryTokens = names.reduce((sum, name) => sum + this.categoryLengths.get(name)!, 0) + names.length - 1;
    const refusalTokens = mode === 'response' && refusal !== null ? this.refusalCue.length + 1 : 0;
    return this.verdictCue.length + this.levelTokens[level].length + this.categoriesCue.length + categoryTokens + refusalTokens;
  }

  categoryRoot(mode: ModerationMode): CategoryCursor {
    return new CategoryCursor(this.tries[mode]);
  }

  /** The next name after a separator: the same vocabulary, minus the names already written. */
  nextCategory(mode: ModerationMode, after: CategoryCursor): CategoryCursor {
    return after.restart(this.tries[mode]);
  }

  /** Where a finished Categories line goes next: the refusal line, or the end of the answer. */
  categoriesEnd(mode: ModerationMode): number {
    return mode === 'response' ? this.refusalCue[0] : this.end;
  }
}

/**
 * A position inside the category trie: which tokens may come next, and what a token leads to. A name
 * already written is not offered again, so a Categories line holds each name once and always ends.
 */
export class CategoryCursor {
  constructor(
    private readonly node: TrieNode,
    private readonly written: ReadonlySet<CategoryName> = new Set(),
    private readonly root: ReadonlySet<CategoryName> = node.reachable,
    /** Tokens of the current name written so far: 0 where a name starts. */
    private readonly depth = 0,
  ) {}

  /** Whether the next token starts a name (the choice that picks which category comes). */
  get atNameStart(): boolean {
    return this.depth === 0;
  }

  get allowed(): number[] {
    return [...this.node.children].filter(([, child]) => [...child.reachable].some((name) => !this.written.has(name))).map(([token]) => token);
  }

  /** Whether another name can still follow a separator. */
  get moreAvailable(): boolean {
    return this.root.size > this.written.size + (this.node.category ? 1 : 0);
  }

  get completed(): CategoryName | undefined {
    return this.node.category;
  }

  /** The only possible next token when there is no choice to make here, else undefined. */
  get forced(): number | undefined {
    const allowed = this.allowed;
    return this.node.category === undefined && allowed.length === 1 ? allowed[0] : undefined;
  }

  next(token: number): CategoryCursor {
    const child = this.node.children.get(token);
    if (!child) throw new Error(`token ${token} is not allowed here`);
    return new CategoryCursor(child, this.written, this.root, this.depth + 1);
  }

  /** Back to the start of a name after a separator, remembering the name just completed. */
  restart(rootNode: TrieNode): CategoryCursor {
    return new CategoryCursor(rootNode, new Set([...this.written, this.node.category!]), this.root);
  }
}

function buildTrie(entries: Array<[CategoryName, number[]]>): TrieNode {
  const root: TrieNode = { children: new Map(), reachable: new Set() };
  for (const [name, tokens] of entries) {
    let node = root;
    root.reachable.add(name);
    for (const token of tokens) {
      let child = node.children.get(token);
      if (!child) {
        child = { children: new Map(), reachable: new Set() };
        node.children.set(token, child);
      }
      child.reachable.add(name);
      node = child;
    }
    node.category = name;
  }
  return root;
}
