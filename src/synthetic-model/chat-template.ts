/**
 * The chat template of the project's synthetic models: our own wording, laid out with Qwen3Guard-Gen's
 * structure (one user turn holding a task line, a policy block, the category list, a refusal block in
 * response mode, the conversation, the answer instructions; then the generation prompt with an empty
 * think block). Real models bring their own template; the engine always renders the model's template.
 *
 * The demo model's trigger words (see demo-model.ts) must never appear in this text.
 */
export const SYNTHETIC_CHAT_TEMPLATE = [
  "{%- set judge_reply = messages[-1]['role'] == 'assistant' -%}",
  "{{- '<|im_start|>user\\n' -}}",
  '{%- if judge_reply -%}',
  "{{- 'Task: decide whether the ASSISTANT\\'s last reply below is acceptable under the policy.\\n\\n' -}}",
  '{%- else -%}',
  "{{- 'Task: decide whether the USER\\'s last message below is acceptable under the policy.\\n\\n' -}}",
  '{%- endif -%}',
  "{{- '<POLICY>\\nThree levels apply.\\n' -}}",
  "{{- '- Safe: ordinary content with no risk.\\n' -}}",
  "{{- '- Controversial: content whose risk depends on context, place or audience.\\n' -}}",
  "{{- '- Unsafe: content that causes or enables clear harm.\\n</POLICY>\\n\\n' -}}",
  "{{- '<CATEGORY LIST>\\nViolent.\\nNon-violent Illegal Acts.\\nSexual Content or Sexual Acts.\\nPII.\\n' -}}",
  "{{- 'Suicide & Self-Harm.\\nUnethical Acts.\\nPolitically Sensitive Topics.\\nCopyright Violation.\\n' -}}",
  "{%- if not judge_reply -%}{{- 'Jailbreak.\\n' -}}{%- endif -%}",
  "{{- '</CATEGORY LIST>\\n\\n' -}}",
  '{%- if judge_reply -%}',
  "{{- '<DECLINE POLICY>\\nSay Yes when the reply turns the request down, No when it complies.\\n</DECLINE POLICY>\\n\\n' -}}",
  '{%- endif -%}',
  "{{- '<EXCHANGE>\\n' -}}",
  '{%- for message in messages -%}',
  "{%- if not loop.first -%}{{- '\\n' -}}{%- endif -%}",
  "{%- if message['role'] == 'user' -%}{{- 'USER: ' -}}{%- else -%}{{- 'ASSISTANT: ' -}}{%- endif -%}",
  "{{- message['content'] + '\\n' -}}",
  '{%- endfor -%}',
  "{{- '</EXCHANGE>\\n\\nAnswer in the fixed format: a Safety line with the level, ' -}}",
  "{{- 'a Categories line with the matching categories or None' -}}",
  "{%- if judge_reply -%}{{- ', then a Refusal line' -}}{%- endif -%}",
  "{{- '.<|im_end|>\\n' -}}",
  "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n' -}}{%- endif -%}",
].join('');
