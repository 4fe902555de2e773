import { ApiException } from '../common/api-exception';
import { ErrorCode } from '../common/error-code';
import { ChatMessage, ModerationInput } from '../inference';
import { ModerateItemDto } from './dto/moderate-item.dto';
import { OpenAiInputEntry } from './dto/openai-moderation-request.dto';
import { LocatedText } from './text-limits';

/** One conversation for the engine, with where each of its texts came from in the request. */
export interface LocatedInput {
  input: ModerationInput;
  texts: LocatedText[];
}

/** A single user prompt (POST /predict, each input of /v1/moderations). */
export function fromPrompt(text: string, field: string): LocatedInput {
  return { input: { messages: [{ role: 'user', content: text }] }, texts: [{ text, field }] };
}

/** A validated OpenAI `input`: each string or text part a user prompt; an image part is refused by name. */
export function fromOpenAiInput(input: string | readonly OpenAiInputEntry[]): LocatedInput[] {
  if (typeof input === 'string') return [fromPrompt(input, 'input')];
  return input.map((entry, index) => {
    const field = `input.${index}`;
    if (typeof entry === 'string') return fromPrompt(entry, field);
    if (entry.type === 'text') return fromPrompt(entry.text, `${field}.text`);
    throw new ApiException(
      ErrorCode.TextInputOnly,
      `${field} is an image_url part: this model moderates text only; send strings or {"type": "text", "text": "..."} parts`,
      { field },
    );
  });
}

/** A validated `{prompt, response?}` or `{messages}` item; `prefix` is its path in the body ('' at top level). */
export function fromItem(item: ModerateItemDto, prefix: string): LocatedInput {
  if (!item.messages) {
    const messages = promptAndResponse(item);
    const fields = [`${prefix}prompt`, `${prefix}response`];
    return { input: { messages }, texts: messages.map(({ content }, index) => ({ text: content, field: fields[index] })) };
  }
  // System messages are not shown to the model (its template has turns for users and assistants only), so
  // they are neither judged nor matched against a blocklist; validation has kept at least one other turn.
  const judged = item.messages.flatMap(({ role, content }, index) =>
    role === 'system' ? [] : [{ message: { role, content }, field: `${prefix}messages.${index}.content` }],
  );
  return {
    input: { messages: judged.map(({ message }) => message) },
    texts: judged.map(({ message, field }) => ({ text: message.content, field })),
  };
}

function promptAndResponse(item: ModerateItemDto): ChatMessage[] {
  // Validation guarantees prompt is present when messages is not.
  const messages: ChatMessage[] = [{ role: 'user', content: item.prompt as string }];
  if (item.response !== undefined) messages.push({ role: 'assistant', content: item.response });
  return messages;
}
