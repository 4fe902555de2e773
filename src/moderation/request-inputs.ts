import { ChatMessage, ModerationInput } from '../inference';
import { ModerateItemDto } from './dto/moderate-item.dto';
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

/** A validated `{prompt, response?}` or `{messages}` item; `prefix` is its path in the body ('' at top level). */
export function fromItem(item: ModerateItemDto, prefix: string): LocatedInput {
  const messages = item.messages ?? promptAndResponse(item);
  const fieldOf = item.messages
    ? (index: number) => `${prefix}messages.${index}.content`
    : (index: number) => `${prefix}${index === 0 ? 'prompt' : 'response'}`;
  return {
    input: { messages: messages.map(({ role, content }) => ({ role, content })) },
    texts: messages.map(({ content }, index) => ({ text: content, field: fieldOf(index) })),
  };
}

function promptAndResponse(item: ModerateItemDto): ChatMessage[] {
  // Validation guarantees prompt is present when messages is not.
  const messages: ChatMessage[] = [{ role: 'user', content: item.prompt as string }];
  if (item.response !== undefined) messages.push({ role: 'assistant', content: item.response });
  return messages;
}
