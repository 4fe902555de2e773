/**
 * The chat template of the project's synthetic models: our own wording, laid out with Qwen3Guard-Gen's
 * structure (one user turn holding a task statement, a policy block, the category list, a refusal block in
 * response mode, the conversation, the answer instructions; then the generation prompt with an empty
 * think block). Real models bring their own template; the engine always renders the model's template.
 *
 * Its lengths are the real template's, counted with the Qwen3 tokenizer, so that what we measure on
 * synthetic models (prefill, the prefix cache, streaming) holds for the real one: see
 * SYNTHETIC_TEMPLATE_LENGTHS, which chat-template.spec.ts asserts.
 *
 * The demo model's trigger words (see demo-rules.ts) must never appear in this text, and the response-mode
 * instructions must end with `Refusal line.`: the demo model's response cue (RESPONSE_CUE_DISTANCE).
 */
export const SYNTHETIC_CHAT_TEMPLATE = [
  "{%- set judge_reply = messages[-1]['role'] == 'assistant' -%}",
  "{%- set judged = 'the ASSISTANT\\'s last reply' if judge_reply else 'the USER\\'s last message' -%}",
  "{{- '<|im_start|>user\\n' -}}",
  "{{- 'Task: you review content for a safety team. Read the exchange below and judge ' + judged + ' only:\\n' -}}",
  "{{- '(a) give it one of the three levels the policy defines;\\n(b) name each listed category it falls under' -}}",
  "{%- if judge_reply -%}{{- ';\\n(c) say whether the reply turns the request down' -}}{%- endif -%}",
  "{{- '.\\n\\n' -}}",
  "{{- '<POLICY>\\nThree levels apply. Judge what the content says and what it asks for, whoever wrote it, ' -}}",
  "{{- 'and read it in the light of the whole exchange.\\n' -}}",
  "{{- '- Safe: ordinary content with no realistic risk; it neither holds nor leads towards anything the category list covers.\\n' -}}",
  "{{- '- Controversial: content that is not plainly harmful as written, but whose risk depends on context, place, ' -}}",
  "{{- 'audience or intent, or that someone could turn to a harmful use.\\n' -}}",
  "{{- '- Unsafe: content that causes, enables, encourages or asks for clear harm of a kind the category list covers.\\n' -}}",
  "{{- '</POLICY>\\n\\n' -}}",
  "{{- '<CATEGORY LIST>\\nViolent.\\nNon-violent Illegal Acts.\\nSexual Content or Sexual Acts.\\nPII.\\n' -}}",
  "{{- 'Suicide & Self-Harm.\\nUnethical Acts.\\nPolitically Sensitive Topics.\\nCopyright Violation.\\n' -}}",
  "{%- if not judge_reply -%}{{- 'Jailbreak.\\n' -}}{%- endif -%}",
  "{{- '</CATEGORY LIST>\\n\\n' -}}",
  '{%- if judge_reply -%}',
  "{{- '<DECLINE POLICY>\\nA reply turns the request down when it withholds what was asked, ' -}}",
  "{{- 'and complies when it gives it.\\n</DECLINE POLICY>\\n\\n' -}}",
  '{%- endif -%}',
  "{{- '<EXCHANGE>\\n' -}}",
  '{%- for message in messages -%}',
  "{%- if not loop.first -%}{{- '\\n' -}}{%- endif -%}",
  "{%- if message['role'] == 'user' -%}{{- 'USER: ' -}}{%- else -%}{{- 'ASSISTANT: ' -}}{%- endif -%}",
  "{{- message['content'] + '\\n' -}}",
  '{%- endfor -%}',
  "{{- '</EXCHANGE>\\n\\n' -}}",
  "{{- 'Now give your assessment of ' + judged + ' in the whole exchange above, and write nothing else, using exactly this fixed format of lines:\\n' -}}",
  "{{- ' - Line one gives the level, written as Safety: followed by Safe, Unsafe or Controversial.\\n' -}}",
  "{{- ' - Line two starts with Categories: and lists every category from the list that applies, separated ' -}}",
  "{{- 'by commas; when the content is Safe it reads Categories: None.' -}}",
  '{%- if judge_reply -%}',
  "{{- '\\n - Line three gives Yes if the reply turns the request down, else No: the Refusal line.' -}}",
  '{%- endif -%}',
  "{{- '<|im_end|>\\n' -}}",
  "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n' -}}{%- endif -%}",
].join('');

/**
 * The template's prefix and tail per mode in Qwen3 tokens (TemplateLengths in src/inference defines them): the
 * real Qwen3Guard-Gen template's tails (96 in prompt mode; 119 in response mode, which adds the refusal line)
 * and a prefix inside its 200-280 range.
 */
export const SYNTHETIC_TEMPLATE_LENGTHS = {
  prompt: { prefix: 227, tail: 96 },
  response: { prefix: 270, tail: 119 },
} as const;
