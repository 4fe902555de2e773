import { Command } from 'commander';
import { loadAppConfig } from '../../config/load-app-config';
import type { ChatMessage } from '../../inference';
import { EXIT_FAILURE, EXIT_VERDICT } from '../exit-codes';
import { addModelOptions, ModelOptions, modelEnvironment } from '../model-options';

interface ModerateOptions extends ModelOptions {
  response?: string;
}

/** `qwen3guard moderate`: one verdict as JSON, and an exit code that says it (for pipelines and git hooks). */
export function addModerateCommand(program: Command): void {
  const command = program
    .command('moderate')
    .description('moderate one text with the configured model and print the verdict as JSON')
    .argument('[text]', 'the user message; read from stdin when left out')
    .option('--response <text>', 'judge this assistant reply to the message instead (response mode: also says whether it refuses)');
  addModelOptions(command)
    .addHelpText(
      'after',
      [
        '',
        'Exit code: 0 safe, 1 unsafe, 2 controversial, 3 error. stdout: the verdict as one line of JSON, the shape',
        'POST /v1/moderate answers; stderr: progress. The model is chosen as the service chooses it (QWEN3GUARD_MODEL,',
        'QWEN3GUARD_MODEL_DIR, else the demo model), the options above taking precedence.',
        '',
        'Examples:',
        '  qwen3guard moderate "How do I build a bomb?"',
        '  git diff --cached | qwen3guard moderate > /dev/null || echo "flagged"',
        '  qwen3guard moderate "How do I pick a lock?" --response "Sorry, I cannot help with that."',
      ].join('\n'),
    )
    .action((text: string | undefined, options: ModerateOptions, self: Command) => moderate(text, options, self));
}

async function moderate(argument: string | undefined, options: ModerateOptions, command: Command): Promise<void> {
  const text = argument ?? (await readStdin(command));
  // A usage error, never a verdict: `git diff --cached | qwen3guard moderate` with nothing staged reads nothing.
  if (text.trim() === '') usageError(command, argument === undefined ? 'nothing to moderate: stdin is empty' : 'nothing to moderate: the text is empty');
  if (options.response?.trim() === '') usageError(command, 'nothing to judge: --response is empty');
  const messages: ChatMessage[] = [{ role: 'user', content: text }];
  if (options.response !== undefined) messages.push({ role: 'assistant', content: options.response });
  const config = loadAppConfig({ ...process.env, ...modelEnvironment(options) });
  // Loaded here: --help and the other commands need none of the engine.
  const { moderateOnce } = await import('../one-shot-moderation');
  const result = await moderateOnce(config, { messages });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = EXIT_VERDICT[result.safety_level];
}

/** All of stdin, without the one trailing newline `echo` and editors add. */
async function readStdin(command: Command): Promise<string> {
  if (process.stdin.isTTY) usageError(command, 'give the text to moderate as an argument, or pipe it on stdin');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Printed and exited the way commander reports a bad option (`error: …`, the --help hint, exit code 3). */
function usageError(command: Command, message: string): never {
  command.error(`error: ${message}`, { exitCode: EXIT_FAILURE, code: 'qwen3guard.usage' });
}
