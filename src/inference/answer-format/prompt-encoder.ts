import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { ChatMessage, ModerationMode } from '../verdict';

/**
 * Renders a conversation with the model's OWN chat template and tokenizes it. The template switches
 * between prompt and response moderation on the role of the last message, so the engine only has to
 * pass the conversation through.
 */
export class PromptEncoder {
  private readonly template: Template;

  constructor(
    private readonly tokenizer: Tokenizer,
    chatTemplate: string,
  ) {
    this.template = new Template(chatTemplate);
  }

  static modeOf(messages: readonly ChatMessage[]): ModerationMode {
    return messages[messages.length - 1].role === 'assistant' ? 'response' : 'prompt';
  }

  render(messages: readonly ChatMessage[]): string {
    return this.template.render({ messages, add_generation_prompt: true, enable_thinking: false });
  }

  encode(messages: readonly ChatMessage[]): number[] {
    return this.tokenize(this.render(messages));
  }

  /** Plain text to ids; special tokens written in the text (`<|im_start|>`) map to their ids. */
  tokenize(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: true });
  }

  /** Ids back to the very text they came from where they can (special tokens kept, no space clean-up). */
  detokenize(ids: readonly number[]): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }
}
