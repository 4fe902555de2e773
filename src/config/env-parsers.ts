import { TransformFnParams } from 'class-transformer';

/**
 * Turns an environment string into an integer, or NaN when it is not one, so that the validator (not
 * the parser) rejects it and names the variable. Number() alone would accept "", "0x10" and "1e3".
 */
export function toInteger({ value }: TransformFnParams): unknown {
  if (typeof value !== 'string') return value;
  return /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
}

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** Turns the usual spellings of a flag into a boolean; anything else stays a string and fails @IsBoolean. */
export function toBoolean({ value }: TransformFnParams): unknown {
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return value;
}

/** Trims a string value; leaves everything else to the validator. */
export function toTrimmed({ value }: TransformFnParams): unknown {
  return typeof value === 'string' ? value.trim() : value;
}
