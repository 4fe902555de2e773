/**
 * Compares what a documented example printed with what the document shows, the way a reader reads it.
 *
 * JSON is compared by structure: the same keys at every level (none dropped, none added), the same
 * strings, booleans, nulls and array lengths; a number stands for "a number" (documents show rounded or
 * made-up values), `...` or `{...}` as a value for "any value", `...` inside a string for "any text there",
 * and an ISO 8601 timestamp for "a timestamp". Other lines are patterns: `...` matches any text and a number
 * standing alone (a sample's value) any number.
 */

/** What `...` or `{...}` in a value position becomes before JSON.parse. */
const ANY_VALUE = '\u0000any value\u0000';
const ELLIPSIS = /\.\.\.|…/;
const NUMBER = /-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;

type ExpectedItem = { kind: 'json'; text: string; value: unknown } | { kind: 'text'; text: string };

/** A document's JSON, with its elisions made parseable. */
export function parseDocumentedJson(text: string): unknown {
  const marked = text
    .replace(/\{\s*(?:\.\.\.|…)\s*\}/g, JSON.stringify(ANY_VALUE))
    .replace(/(?<=[:[,]\s*)(?:\.\.\.|…)(?=\s*[,}\]])/g, JSON.stringify(ANY_VALUE));
  return JSON.parse(marked);
}

/** Differences between a documented JSON value and a real one, each with its path; none when they agree. */
export function compareJson(expected: unknown, actual: unknown, path = '$'): string[] {
  const shown = (value: unknown) => (value === undefined ? 'nothing' : JSON.stringify(value));
  if (expected === ANY_VALUE) return actual === undefined ? [`${path}: missing`] : [];
  if (typeof expected === 'number') return typeof actual === 'number' ? [] : [`${path}: a number is documented, the service gave ${shown(actual)}`];
  if (typeof expected === 'string')
    return stringMatches(expected, actual) ? [] : [`${path}: ${shown(expected)} is documented, the service gave ${shown(actual)}`];
  if (expected === null || typeof expected === 'boolean')
    return actual === expected ? [] : [`${path}: ${shown(expected)} is documented, the service gave ${shown(actual)}`];
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path}: an array is documented, the service gave ${shown(actual)}`];
    if (actual.length !== expected.length) return [`${path}: ${expected.length} items are documented, the service gave ${actual.length}: ${shown(actual)}`];
    return expected.flatMap((item, index) => compareJson(item, actual[index], `${path}[${index}]`));
  }
  if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return [`${path}: an object is documented, the service gave ${shown(actual)}`];
  const documented = expected as Record<string, unknown>;
  const real = actual as Record<string, unknown>;
  const missing = Object.keys(documented)
    .filter((key) => !(key in real))
    .map((key) => `${path}.${key}: documented, but the service gave none`);
  const undocumented = Object.keys(real)
    .filter((key) => !(key in documented))
    .map((key) => `${path}.${key}: not documented, the service gave ${shown(real[key])}`);
  const differing = Object.keys(documented)
    .filter((key) => key in real)
    .flatMap((key) => compareJson(documented[key], real[key], `${path}.${key}`));
  return [...missing, ...undocumented, ...differing];
}

function stringMatches(expected: string, actual: unknown): boolean {
  if (typeof actual !== 'string') return false;
  if (ELLIPSIS.test(expected))
    return new RegExp(
      `^${expected
        .split(/\.\.\.|…/)
        .map(escape)
        .join('.*')}$`,
      's',
    ).test(actual);
  if (TIMESTAMP.test(expected)) return TIMESTAMP.test(actual);
  return actual === expected;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A documented output line as a pattern: `...` any text, a number standing alone any number, the rest as written. */
function linePattern(line: string): RegExp {
  const parts = line.trim().split(/(\.\.\.|…|(?<=^|\s)-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?=\s|$))/);
  const source = parts.map((part, index) => (index % 2 === 0 ? escape(part) : ELLIPSIS.test(part) ? '.*' : NUMBER.source)).join('');
  return new RegExp(`^${source}$`);
}

/** The documented lines, grouped: a line starting with `{` or `[` opens a JSON value that runs to its closing bracket. */
function expectedItems(lines: readonly string[]): ExpectedItem[] {
  const items: ExpectedItem[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].trim();
    if (line === '') continue;
    if (!/^[{[]/.test(line)) {
      items.push({ kind: 'text', text: line });
      continue;
    }
    let text = line;
    while (!bracketsBalanced(text) && index + 1 < lines.length) text += `\n${lines[++index]}`;
    items.push({ kind: 'json', text, value: parseDocumentedJson(text) });
  }
  return items;
}

function bracketsBalanced(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{' || char === '[') depth++;
    else if (char === '}' || char === ']') depth--;
  }
  return depth === 0;
}

/**
 * Differences between the output a document shows and the real output; none when they agree. With JSON
 * in the documented output, each documented item must match the real line at its place, and there must be as
 * many; text alone is a sample: each documented line must match a real line, in order.
 */
export function compareOutput(documented: readonly string[], output: string): string[] {
  const items = expectedItems(documented);
  const lines = output
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '');
  if (items.every((item) => item.kind === 'text')) {
    let next = 0;
    return items.flatMap((item) => {
      const pattern = linePattern(item.text);
      const found = lines.findIndex((line, index) => index >= next && pattern.test(line.trim()));
      if (found < 0) return [`no output line matches the documented "${item.text}"; the output was:\n${output}`];
      next = found + 1;
      return [];
    });
  }
  if (lines.length !== items.length) return [`${items.length} output lines are documented, the example printed ${lines.length}:\n${output}`];
  return items.flatMap((item, index) => {
    if (item.kind === 'text')
      return linePattern(item.text).test(lines[index].trim()) ? [] : [`line ${index + 1}: "${item.text}" is documented, the example printed "${lines[index]}"`];
    let actual: unknown;
    try {
      actual = JSON.parse(lines[index]);
    } catch {
      return [`line ${index + 1}: JSON is documented, the example printed "${lines[index]}"`];
    }
    return compareJson(item.value, actual);
  });
}
