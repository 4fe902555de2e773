import { ApiException } from '../common/api-exception';
import { ErrorCode } from '../common/error-code';

/** A text from the request and where it sat, so a limit error can name the field. */
export interface LocatedText {
  text: string;
  field: string;
}

/** Characters as a reader counts them: code points, so an emoji is one, not two UTF-16 units. */
export function characterCount(text: string, stopAfter: number): number {
  // UTF-16 length bounds the code-point count from above: most texts never need the slow count.
  if (text.length <= stopAfter) return text.length;
  let count = 0;
  for (const _ of text) {
    if (++count > stopAfter) break;
  }
  return count;
}

/** 413 TEXT_TOO_LONG for the first text over the limit. */
export function assertTextsFit(texts: readonly LocatedText[], maxChars: number): void {
  const tooLong = texts.find(({ text }) => characterCount(text, maxChars) > maxChars);
  if (tooLong) {
    throw new ApiException(ErrorCode.TextTooLong, `${tooLong.field} is longer than ${maxChars} characters`, { field: tooLong.field });
  }
}

/** 400 for a batch larger than the configured maximum. */
export function assertBatchFits(count: number, field: string, maxItems: number): void {
  if (count > maxItems) {
    throw new ApiException(ErrorCode.ValidationFailed, `${field} must contain at most ${maxItems} elements`, { field });
  }
}
