import { Command, CommanderError } from 'commander';
import { ScenarioError, WhatbreaksError } from '../errors.js';
import { VERSION } from '../version.js';
import { EXIT, exitForError } from './exit-codes.js';
import { addHelpTexts, usageErrorsPointToHelp } from './help.js';
import { registerList } from './list.js';
import { registerMutate } from './mutate.js';
import { registerReplay } from './replay.js';
import { registerReport } from './report.js';
import { registerRun } from './run.js';
import { registerSchema } from './schema.js';
import { registerStub } from './stub.js';
import { registerValidate } from './validate.js';
import { registerVerify } from './verify.js';

/**
 * The whatbreaks command line. Each command lives in its own file and only parses, calls the library
 * and prints; exit codes come from `exit-codes.ts`.
 */
const program = new Command()
  .name('whatbreaks')
  .description('Reproduce what breaks when code meets production: races, duplicate execution, retry storms.')
  .version(VERSION)
  .exitOverride();

registerRun(program);
registerVerify(program);
registerMutate(program);
registerReport(program);
registerReplay(program);
registerList(program);
registerValidate(program);
registerSchema(program);
registerStub(program);
addHelpTexts(program);
usageErrorsPointToHelp(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // help and --version exit 0; usage errors were already printed by commander.
    process.exitCode = err.exitCode === 0 ? EXIT.PASS : EXIT.ERROR;
  } else if (err instanceof ScenarioError) {
    process.stderr.write(
      `whatbreaks: scenario is invalid (${err.issues.length} problem${err.issues.length === 1 ? '' : 's'}):\n${err.message}\n`,
    );
    process.exitCode = EXIT.ERROR;
  } else if (err instanceof WhatbreaksError) {
    process.stderr.write(`whatbreaks: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
    process.exitCode = exitForError(err.code);
  } else {
    process.stderr.write(
      `whatbreaks: internal error (a bug in whatbreaks, please report it):\n${(err as Error).stack ?? String(err)}\n`,
    );
    process.exitCode = EXIT.ERROR;
  }
}

// Everything was torn down by now; a handle still open (a keep-alive socket) must not keep the CLI alive.
setTimeout(() => process.exit(), 3_000).unref();
