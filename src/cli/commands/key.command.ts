import { Command } from 'commander';
import { apiKeyHash, generateApiKey } from '../../api-keys/api-key';

/** `qwen3guard key create`: a new tenant API key, shown once, and the hash the service will store. */
export function addKeyCommand(program: Command): void {
  const key = program.command('key').description('manage API keys for the tenant feature');
  key
    .command('create')
    .description('generate a random API key; prints the key (once) and then the line for the tenants file')
    .addHelpText(
      'after',
      '\nstdout: line 1 is the key, give it to the client; line 2 is `sha256:<hex>`, the only thing the service keeps.\n' +
        'The key is not stored anywhere: lose it and create another.',
    )
    .action(() => {
      const apiKey = generateApiKey();
      process.stdout.write(`${apiKey}\n${apiKeyHash(apiKey)}\n`);
      process.stderr.write('Line 1: the API key, shown only now: hand it to the client.\nLine 2: add it to the tenants file.\n');
    });
}
