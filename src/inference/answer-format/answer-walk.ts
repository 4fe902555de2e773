import { AnswerGrammar, CategoryCursor } from './answer-grammar';
import { ModerationMode, RiskCategory, SAFETY_LEVELS, SafetyLevel } from '../verdict';

/** What the answer holds next: a token the format fixes, a choice among the tokens it allows, or nothing (complete). */
export type NextToken = { forced: number } | { choices: readonly number[]; phase: ChoicePhase } | undefined;

export type ChoicePhase = 'level' | 'category' | 'refusal';

/**
 * One answer, token by token, from `Safety:` to its last choice: which token comes next and what a token
 * leads to. Decoding accepts the tokens it decided (the model's pick at each choice, the format's at each fixed
 * token); a clone can walk ahead on guesses without touching the answer (speculative drafts).
 * A Safe prompt verdict ends at its level (`Categories: None` needs no model pass); every other answer ends
 * at its last choice: the Categories line's end in prompt mode, Yes/No in response mode.
 */
export class AnswerWalk {
  level: SafetyLevel = 'safe';
  readonly categories: RiskCategory[] = [];
  refusal: boolean | null = null;
  private phase: ChoicePhase | 'done' = 'level';
  /** Fixed tokens still to come before the next choice. */
  private forced: number[];
  private cursor: CategoryCursor | null = null;

  constructor(
    private readonly grammar: AnswerGrammar,
    readonly mode: ModerationMode,
  ) {
    this.forced = [...grammar.verdictCue];
  }

  get done(): boolean {
    return this.phase === 'done';
  }

  next(): NextToken {
    if (this.forced.length > 0) return { forced: this.forced[0] };
    switch (this.phase) {
      case 'level':
        return { choices: this.grammar.levelChoices, phase: 'level' };
      case 'category': {
        const cursor = this.cursor!;
        if (cursor.forced !== undefined) return { forced: cursor.forced };
        return { choices: [...cursor.allowed, ...this.closingTokens()], phase: 'category' };
      }
      case 'refusal':
        return { choices: [this.grammar.refusalTokens.yes, this.grammar.refusalTokens.no], phase: 'refusal' };
      default:
        return undefined;
    }
  }

  /** Moves past `token`, which must be what next() allows. */
  accept(token: number): void {
    const grammar = this.grammar;
    if (this.forced.length > 0) {
      if (token !== this.forced[0]) throw new Error(`token ${token} is not the fixed ${this.forced[0]}`);
      this.forced.shift();
      return;
    }
    switch (this.phase) {
      case 'level': {
        this.level = SAFETY_LEVELS[grammar.levelChoices.indexOf(token)];
        const rest = grammar.levelTokens[this.level].slice(1);
        if (this.level !== 'safe') return this.enter('category', [...rest, ...grammar.categoriesCue], grammar.categoryRoot(this.mode));
        if (this.mode === 'prompt') return this.enter('done', []);
        return this.enter('refusal', [...rest, ...grammar.categoriesCue, ...grammar.noneTokens, ...grammar.refusalCue]);
      }
      case 'category':
        return this.acceptCategoryToken(token);
      case 'refusal':
        this.refusal = token === grammar.refusalTokens.yes;
        return this.enter('done', []);
      default:
        throw new Error('the answer is complete');
    }
  }

  clone(): AnswerWalk {
    const copy = Object.assign(Object.create(AnswerWalk.prototype) as AnswerWalk, this);
    copy.forced = [...this.forced];
    (copy as { categories: RiskCategory[] }).categories = [...this.categories];
    return copy;
  }

  /** Whether the next token, not fixed, picks which category name comes. */
  get atNameStart(): boolean {
    return this.phase === 'category' && this.forced.length === 0 && this.cursor!.atNameStart;
  }

  /** Where the Categories line may go once a name is complete: another name, then its end. */
  closingTokens(): number[] {
    const cursor = this.cursor;
    if (this.phase !== 'category' || !cursor?.completed) return [];
    return [...(cursor.moreAvailable ? [this.grammar.separator] : []), this.grammar.categoriesEnd(this.mode)];
  }

  private acceptCategoryToken(token: number): void {
    const cursor = this.cursor!;
    if (!this.closingTokens().includes(token)) return void (this.cursor = cursor.next(token));
    if (cursor.completed !== 'None') this.categories.push(cursor.completed as RiskCategory);
    if (token === this.grammar.separator) return void (this.cursor = this.grammar.nextCategory(this.mode, cursor));
    if (this.mode === 'prompt') return this.enter('done', []);
    this.enter('refusal', this.grammar.refusalCue.slice(1));
  }

  private enter(phase: ChoicePhase | 'done', forced: number[], cursor: CategoryCursor | null = null): void {
    this.phase = phase;
    this.forced = forced;
    this.cursor = cursor;
  }
}
