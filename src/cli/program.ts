import { Command } from 'commander';
import { serviceVersion } from '../metrics/service-version';
import { addBuildModelCommand } from './commands/build-model.command';
import { addDbCommand } from './commands/db.command';
import { addKeyCommand } from './commands/key.command';
import { addModerateCommand } from './commands/moderate.command';
import { addPullCommand } from './commands/pull.command';
import { addServeCommand } from './commands/serve.command';

/**
 * The `qwen3guard` command line. Subcommands are added with `program.command()` so that they inherit the
 * error handling set here (exitOverride: a usage error throws instead of exiting with commander's code 1,
 * which `moderate` uses for "unsafe").
 */
export function createProgram(): Command {
  const program = new Command('qwen3guard')
    .description('Qwen3Guard-Gen-WEB: the content-moderation service, its models, and one-shot checks')
    .version(serviceVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  addServeCommand(program);
  addPullCommand(program);
  addModerateCommand(program);
  addBuildModelCommand(program);
  addKeyCommand(program);
  addDbCommand(program);
  return program;
}
