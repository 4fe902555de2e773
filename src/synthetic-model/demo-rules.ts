/**
 * What the demo model answers, as data: the Qwen3 token ids of its answer vocabulary, the trigger words
 * of each class, and the state machine that greedy decoding walks through. demo-model.ts turns this
 * table into weights; demo-model.spec.ts checks every id here against the real tokenizer.
 */

/** Token ids (Qwen3 tokenizer) of every piece the demo model writes, and of the prompt tokens it reads. */
export const DEMO_TOKENS = {
  /** The generation prompt ends with `</think>` `\n\n`; the answer starts after the `\n\n`. */
  thinkEnd: 151668,
  doubleNewline: 271,
  safety: 73037, // "Safety"
  colon: 25, // ":"
  newline: 198, // "\n"
  safe: 22291, // " Safe"
  unsafe: 73067, // " Unsafe"
  controversial: [2093, 12563, 530], // " Cont" "rovers" "ial"
  categories: 20970, // "Categories"
  none: 2240, // " None"
  violent: [29455, 306], // " Viol" "ent"
  pii: [393, 5543], // " P" "II"
  political: [15928, 2673, 328, 18723, 40894], // " Polit" "ically" " S" "ensitive" " Topics"
  refusal: [3945, 35414], // "Ref" "usal"
  yes: 7414, // " Yes"
  no: 2308, // " No"
  imEnd: 151645, // "<|im_end|>"
  /**
   * " Ref" of `..., else No: the Refusal line.` at the end of the response-mode template: the response-mode
   * cue (see RESPONSE_CUE_DISTANCE).
   */
  responseCue: 8550,
} as const;

/**
 * In a response-mode prompt the cue token ` Ref` sits exactly this many tokens before the last prompt
 * token: ` Ref` `usal` ` line` `.` `<|im_end|>` `\n` `<|im_start|>` `assistant` `\n` `<think>` `\n\n`
 * `</think>` `\n\n`. The prompt-mode template has no such line. The spec checks it on the rendered
 * SYNTHETIC_CHAT_TEMPLATE; a model directory with another template gets no Refusal line.
 */
export const RESPONSE_CUE_DISTANCE = 12;

export type TriggerClass = 'violent' | 'pii' | 'political' | 'refusal';

/**
 * The trigger words, by class. A word triggers wherever the tokenizer turns it into one of the listed
 * ids: every single-token spelling of the word in the Qwen3 vocabulary (any capitalisation, with or
 * without the leading space). A class counts when any of its tokens appears anywhere in the rendered
 * prompt, i.e. in any message of the conversation. Matching is per token, so a longer word that the
 * tokenizer splits into a trigger token and a rest (" bomb" + "astic") triggers too, and a spelling
 * that is not a single token ("KILL", " 密码") does not.
 *
 * | class     | verdict                                                  | words                                   |
 * |-----------|----------------------------------------------------------|-----------------------------------------|
 * | violent   | Unsafe, Violent                                          | kill(s/ed/ing/er), murder, bomb(s/ing), weapon(s), gun(s), shoot(ing), stab(bed), rifle, terrorist, 杀 杀人 杀了 炸弹 枪 武器 爆炸 |
 * | pii       | Unsafe, PII                                              | password(s), passport, credentials, 密码 身份证 护照 银行卡 |
 * | political | Controversial, Politically Sensitive Topics              | election(s), protest(s), referendum, dictator, regime, coup, 选举 抗议 政治 |
 * | refusal   | Refusal: Yes (response mode only; otherwise Refusal: No) | sorry, cannot, unable, apologize, apologies, refuse, 抱歉 对不起 无法 |
 *
 * Priority when several classes appear: violent > pii > political > none (one category is reported).
 * None of these ids occurs in SYNTHETIC_CHAT_TEMPLATE or in the answer vocabulary (the spec checks).
 */
export const DEMO_TRIGGER_WORDS: Record<TriggerClass, ReadonlyArray<readonly [word: string, tokenIds: readonly number[]]>> = {
  violent: [
    ['kill', [5505, 10851, 26835, 53734]],
    ['kills', [28810, 60853, 60925]],
    ['killed', [7425, 43796]],
    ['killing', [13118, 69577]],
    ['killer', [24518, 52953, 72078]],
    ['murder', [9901, 51383]],
    ['bomb', [12764, 32809, 78344, 91726]],
    ['bombs', [32506]],
    ['bombing', [36331]],
    ['weapon', [10288, 22873, 27777, 28214]],
    ['weapons', [9893, 46564, 79628, 84765]],
    ['gun', [6038, 13259, 21707, 63907]],
    ['guns', [16362, 51821, 59465]],
    ['shoot', [6102, 49266, 67292, 85195]],
    ['shooting', [10441, 60781]],
    ['stab', [26964, 67488]],
    ['stabbed', [50180]],
    ['rifle', [28132, 47038]],
    ['terrorist', [19740]],
    ['杀', [99733]],
    ['杀人', [107642]],
    ['杀了', [108629]],
    ['炸弹', [114136]],
    ['枪', [104068]],
    ['武器', [104729]],
    ['爆炸', [105755]],
  ],
  pii: [
    ['password', [3552, 3833, 4876, 12362, 50671, 58856]],
    ['passwords', [33716, 84546]],
    ['passport', [25458, 42669, 66800]],
    ['credentials', [16387, 27025, 32353, 61260]],
    ['密码', [32867]],
    ['身份证', [105765]],
    ['护照', [115663]],
    ['银行卡', [111301]],
  ],
  political: [
    ['election', [6223, 25754, 61472]],
    ['elections', [15991, 57501]],
    ['protest', [8665, 36659]],
    ['protests', [21907]],
    ['referendum', [29698]],
    ['dictator', [41184]],
    ['regime', [17484]],
    ['coup', [15706]],
    ['选举', [106265]],
    ['抗议', [114912]],
    ['政治', [101091]],
  ],
  refusal: [
    ['sorry', [14589, 19152, 32286, 67597]],
    ['cannot', [4157, 17444, 33260, 34655]],
    ['unable', [11889, 17075, 41444, 45928]],
    ['apologize', [36879]],
    ['apologies', [72173]],
    ['refuse', [25066]],
    ['抱歉', [115546]],
    ['对不起', [109024]],
    ['无法', [101068]],
  ],
};

export const TRIGGER_CLASSES: readonly TriggerClass[] = ['violent', 'pii', 'political', 'refusal'];

/**
 * What each class makes the model answer (the table above, as data for tests and docs). Classes are
 * listed by priority: the first one present decides the Safety and Categories lines.
 */
export const DEMO_CLASS_VERDICTS = {
  violent: { safety: 'Unsafe', category: 'Violent' },
  pii: { safety: 'Unsafe', category: 'PII' },
  political: { safety: 'Controversial', category: 'Politically Sensitive Topics' },
  refusal: { refusal: 'Yes' },
} as const satisfies Record<TriggerClass, object>;

/** All token ids of one class. */
export function triggerTokenIds(triggerClass: TriggerClass): number[] {
  return DEMO_TRIGGER_WORDS[triggerClass].flatMap(([, ids]) => ids);
}

/**
 * Roles of the answer tokens: what the model does when the token is the current (last) one. Tokens
 * that play the same part share a role. The three `categoryEnd*` roles differ only in how far the
 * response cue lies behind them (see demo-model.ts).
 */
export const DEMO_ROLES = {
  answerStart: [DEMO_TOKENS.doubleNewline],
  safety: [DEMO_TOKENS.safety],
  colon: [DEMO_TOKENS.colon],
  verdictEnd: [DEMO_TOKENS.safe, DEMO_TOKENS.unsafe, DEMO_TOKENS.controversial[2]],
  controversial1: [DEMO_TOKENS.controversial[0]],
  controversial2: [DEMO_TOKENS.controversial[1]],
  newline: [DEMO_TOKENS.newline],
  categories: [DEMO_TOKENS.categories],
  categoryEndNone: [DEMO_TOKENS.none],
  categoryEndTwoPiece: [DEMO_TOKENS.violent[1], DEMO_TOKENS.pii[1]],
  categoryEndPolitical: [DEMO_TOKENS.political[4]],
  violent1: [DEMO_TOKENS.violent[0]],
  pii1: [DEMO_TOKENS.pii[0]],
  political1: [DEMO_TOKENS.political[0]],
  political2: [DEMO_TOKENS.political[1]],
  political3: [DEMO_TOKENS.political[2]],
  political4: [DEMO_TOKENS.political[3]],
  refusal1: [DEMO_TOKENS.refusal[0]],
  refusal2: [DEMO_TOKENS.refusal[1]],
  yesNo: [DEMO_TOKENS.yes, DEMO_TOKENS.no],
} as const satisfies Record<string, readonly number[]>;

export type DemoRole = keyof typeof DEMO_ROLES;

/** What the previous-token head copies forward: the roles whose successor depends on them. */
export const PREVIOUS_GROUPS = {
  safety: ['safety'],
  categories: ['categories'],
  refusal2: ['refusal2'],
  verdictEnd: ['verdictEnd'],
  categoryEnd: ['categoryEndNone', 'categoryEndTwoPiece', 'categoryEndPolitical'],
} as const satisfies Record<string, readonly DemoRole[]>;

export type PreviousGroup = keyof typeof PREVIOUS_GROUPS;

/** Flags the attention heads compute over the whole context: one per trigger class, plus the mode. */
export type DemoFlag = TriggerClass | 'response';

/** A condition on the current position: the current token's role, the previous token's group, a flag. */
export type DemoFeature = `role.${DemoRole}` | `prev.${PreviousGroup}` | `flag.${DemoFlag}`;

export type VerdictName = 'safe' | 'controversial' | 'unsafe';

/**
 * Logits of the three verdict tokens (` Safe`, ` Cont`, ` Unsafe`) relative to the chosen one, so the
 * verdict distribution the engine reports is plausible rather than one-hot: the chosen level gets
 * about 0.90 (safe), 0.82 (controversial) or 0.91 (unsafe).
 */
export const VERDICT_LOGIT_OFFSETS: Record<VerdictName, Record<VerdictName, number>> = {
  safe: { safe: 0, controversial: -2.5, unsafe: -3.5 },
  controversial: { safe: -2.0, controversial: 0, unsafe: -2.5 },
  unsafe: { safe: -4.0, controversial: -2.5, unsafe: 0 },
};

export interface DemoRule {
  /** All must hold. An array entry holds when any of its features does (only mutually exclusive roles). */
  when: ReadonlyArray<DemoFeature | readonly DemoFeature[]>;
  /** None may hold. */
  unless?: readonly DemoFeature[];
  /** The next token, or a verdict (its first token, with graded logits for the other two). */
  emit: number | { verdict: VerdictName };
}

const T = DEMO_TOKENS;
const CATEGORY_END: readonly DemoFeature[] = ['role.categoryEndNone', 'role.categoryEndTwoPiece', 'role.categoryEndPolitical'];

/**
 * The answer as a state machine keyed on (current token, previous token, flags). One rule = one MLP
 * unit. When no rule holds the model writes <|im_end|>.
 *
 *   \n\n                     -> Safety -> : -> verdict (Unsafe if violent|pii, else Controversial if
 *                               political, else Safe) -> \n -> Categories -> : -> category (same
 *                               priority; None when no class) -> (response mode) \n Ref usal : Yes|No
 *                               (Yes if refusal) -> <|im_end|>;  (prompt mode) <|im_end|>
 */
export const DEMO_RULES: readonly DemoRule[] = [
  { when: ['role.answerStart'], emit: T.safety },
  { when: ['role.safety'], emit: T.colon },
  // `Safety:` -> the verdict.
  { when: ['role.colon', 'prev.safety', 'flag.violent'], emit: { verdict: 'unsafe' } },
  { when: ['role.colon', 'prev.safety', 'flag.pii'], emit: { verdict: 'unsafe' } },
  { when: ['role.colon', 'prev.safety', 'flag.political'], unless: ['flag.violent', 'flag.pii'], emit: { verdict: 'controversial' } },
  { when: ['role.colon', 'prev.safety'], unless: ['flag.violent', 'flag.pii', 'flag.political'], emit: { verdict: 'safe' } },
  { when: ['role.controversial1'], emit: T.controversial[1] },
  { when: ['role.controversial2'], emit: T.controversial[2] },
  { when: ['role.verdictEnd'], emit: T.newline },
  { when: ['role.newline', 'prev.verdictEnd'], emit: T.categories },
  { when: ['role.categories'], emit: T.colon },
  // `Categories:` -> the category, by the same priority.
  { when: ['role.colon', 'prev.categories', 'flag.violent'], emit: T.violent[0] },
  { when: ['role.colon', 'prev.categories', 'flag.pii'], unless: ['flag.violent'], emit: T.pii[0] },
  { when: ['role.colon', 'prev.categories', 'flag.political'], unless: ['flag.violent', 'flag.pii'], emit: T.political[0] },
  { when: ['role.colon', 'prev.categories'], unless: ['flag.violent', 'flag.pii', 'flag.political'], emit: T.none },
  { when: ['role.violent1'], emit: T.violent[1] },
  { when: ['role.pii1'], emit: T.pii[1] },
  { when: ['role.political1'], emit: T.political[1] },
  { when: ['role.political2'], emit: T.political[2] },
  { when: ['role.political3'], emit: T.political[3] },
  { when: ['role.political4'], emit: T.political[4] },
  // End of the Categories line: a Refusal line in response mode, the end otherwise.
  { when: [CATEGORY_END, 'flag.response'], emit: T.newline },
  { when: [CATEGORY_END], unless: ['flag.response'], emit: T.imEnd },
  { when: ['role.newline', 'prev.categoryEnd'], emit: T.refusal[0] },
  { when: ['role.refusal1'], emit: T.refusal[1] },
  { when: ['role.refusal2'], emit: T.colon },
  { when: ['role.colon', 'prev.refusal2', 'flag.refusal'], emit: T.yes },
  { when: ['role.colon', 'prev.refusal2'], unless: ['flag.refusal'], emit: T.no },
  { when: ['role.yesNo'], emit: T.imEnd },
];
