#!/usr/bin/env node
import { CommanderError } from 'commander';
import { EXIT_FAILURE } from './exit-codes';
import { createProgram } from './program';

/** A failure's exit code; commander has already printed its own (usage) errors, the rest are printed here. */
function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_FAILURE;
  process.stderr.write(`qwen3guard: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT_FAILURE;
}

// exitCode, never exit(): stdout may be a pipe still being written to.
createProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.exitCode = exitCodeFor(error);
  });
