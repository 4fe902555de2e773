import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The examples of README.md and docs/*.md, as test/docs-examples.e2e-spec.ts runs them.
 *
 * A fenced block whose language is bash, sh, shell or console is a shell example; ts or typescript, a
 * TypeScript one. What an example prints is written either as the `#` lines right below a command (up to
 * the next blank line or command; a comment after a blank line is just a comment) or, for the block's last
 * command or a TypeScript example, as the ```json block right after it. A `console` block prefixes commands
 * with `$ ` and shows their output plainly.
 *
 * The HTML comment on the line before a fence says how the example runs:
 * `<!-- example: not run — <reason> -->` for one that cannot run where the tests run, and
 * `<!-- example: run with a tenants file — <what it holds> -->` for one that needs a tenant's key ($KEY).
 */

const SHELL_LANGUAGES = new Set(['bash', 'sh', 'shell', 'console']);
const TYPESCRIPT_LANGUAGES = new Set(['ts', 'typescript']);
const FENCE = /^(\s*)(```+|~~~+)\s*([\w-]*)\s*$/;
const ANNOTATION = /^\s*<!--\s*example:\s*(.*?)\s*-->\s*$/;
const NOT_RUN = /^not run\s*[—:-]\s*(\S.*)$/;
const WITH_TENANTS = /^run with a tenants file\s*[—:-]\s*(\S.*)$/;

export type ExampleRun = { kind: 'run' } | { kind: 'with-tenants'; note: string } | { kind: 'not-run'; reason: string };

export interface ShellCommand {
  /** The command as written (continuation lines joined with their backslashes). */
  source: string;
  line: number;
  /** What the document shows the command prints, without the `# `; undefined when it shows nothing. */
  expected?: string[];
}

export interface DocExample {
  /** `README.md:38`: where the block's opening fence is. */
  where: string;
  language: 'shell' | 'typescript';
  code: string;
  run: ExampleRun;
  /** Shell examples: the commands in order. */
  commands: ShellCommand[];
  /** The ```json block right after this one: what the last command (or the TypeScript example) prints. */
  followingJson?: string[];
}

interface Fence {
  line: number;
  language: string;
  body: string[];
  /** The annotation on the line before the fence, if any. */
  annotation?: string;
}

/** README.md and every Markdown file of docs/, relative to `root`. */
export function documentationFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join(root, 'docs', name));
  return [join(root, 'README.md'), ...docs];
}

/** Every shell and TypeScript example of the files, in document order. */
export function extractExamples(root: string, files: readonly string[]): DocExample[] {
  return files.flatMap((file) => examplesOf(relative(root, file), readFileSync(file, 'utf8')));
}

/** Annotations that stand before no example (a typo, or a block that moved): `file:line` of each. */
export function strayAnnotations(root: string, files: readonly string[]): string[] {
  return files.flatMap((file) => {
    const markdown = readFileSync(file, 'utf8');
    const used = new Set(fencesOf(markdown).flatMap((fence) => (fence.annotation !== undefined && isExampleLanguage(fence.language) ? [fence.line - 1] : [])));
    return markdown.split('\n').flatMap((text, index) => (ANNOTATION.test(text) && !used.has(index + 1) ? [`${relative(root, file)}:${index + 1}`] : []));
  });
}

function isExampleLanguage(language: string): boolean {
  return SHELL_LANGUAGES.has(language) || TYPESCRIPT_LANGUAGES.has(language);
}

function examplesOf(file: string, markdown: string): DocExample[] {
  const fences = fencesOf(markdown);
  return fences.flatMap((fence, index) => {
    if (!isExampleLanguage(fence.language)) return [];
    const next = fences[index + 1];
    const followingJson = next?.language === 'json' && next.line === fence.line + fence.body.length + 2 ? next.body : undefined;
    const shell = SHELL_LANGUAGES.has(fence.language);
    return [
      {
        where: `${file}:${fence.line}`,
        language: shell ? 'shell' : 'typescript',
        code: fence.body.join('\n'),
        run: exampleRun(`${file}:${fence.line}`, fence.annotation),
        commands: shell ? (fence.language === 'console' ? consoleCommands(fence) : shellCommands(fence)) : [],
        followingJson,
      },
    ];
  });
}

function exampleRun(where: string, annotation: string | undefined): ExampleRun {
  if (annotation === undefined) return { kind: 'run' };
  const notRun = NOT_RUN.exec(annotation);
  if (notRun) return { kind: 'not-run', reason: notRun[1] };
  const withTenants = WITH_TENANTS.exec(annotation);
  if (withTenants) return { kind: 'with-tenants', note: withTenants[1] };
  throw new Error(`${where}: unknown example annotation "${annotation}" (expected "not run — <reason>" or "run with a tenants file — <what it holds>")`);
}

/** Fenced blocks with their 1-based opening line; a block's lines lose the fence's own indentation. */
function fencesOf(markdown: string): Fence[] {
  const lines = markdown.split('\n');
  const fences: Fence[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = FENCE.exec(lines[index]);
    if (!open) continue;
    const [, indent, marker, language] = open;
    const body: string[] = [];
    let close = index + 1;
    while (close < lines.length && lines[close].trim() !== marker) body.push(lines[close++].slice(indent.length));
    const previous = ANNOTATION.exec(lines[index - 1] ?? '');
    fences.push({ line: index + 1, language, body, annotation: previous?.[1] });
    index = close;
  }
  return fences;
}

function shellCommands(fence: Fence): ShellCommand[] {
  const commands: ShellCommand[] = [];
  /** The command whose output `#` lines may still follow (none after a blank line). */
  let open: ShellCommand | undefined;
  for (let index = 0; index < fence.body.length; index++) {
    const text = fence.body[index];
    if (text.trim() === '') {
      open = undefined;
    } else if (text.trimStart().startsWith('#')) {
      if (open) (open.expected ??= []).push(text.trimStart().replace(/^#\s?/, ''));
    } else {
      const line = fence.line + 1 + index;
      let source = text;
      while (source.endsWith('\\') && index + 1 < fence.body.length) source += `\n${fence.body[++index]}`;
      open = { source, line };
      commands.push(open);
    }
  }
  return commands;
}

function consoleCommands(fence: Fence): ShellCommand[] {
  const commands: ShellCommand[] = [];
  fence.body.forEach((text, index) => {
    if (text.startsWith('$ ')) commands.push({ source: text.slice(2), line: fence.line + 1 + index });
    else if (text.trim() !== '' && commands.length > 0) (commands[commands.length - 1].expected ??= []).push(text);
  });
  return commands;
}
