import type { Command } from 'commander';
import { formatIssue, ScenarioError, WhatbreaksError } from '../errors.js';
import { loadScenario } from '../scenario/load.js';
import { EXIT } from './exit-codes.js';

/**
 * `whatbreaks validate <scenario…>`: check scenario files without running anything — the same checks
 * `run` makes before it starts (`loadScenario`). Prints `ok` per valid file; every problem of every
 * invalid file, each with file, line, column, field, a "did you mean" where one is close and a hint.
 * Exit 0 when every file is valid, 2 otherwise.
 */
export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check scenario files (every problem at once); exit 0 when valid, 2 otherwise')
    .argument('<scenario...>', 'scenario files (YAML)')
    .action((files: string[]) => {
      let bad = 0;
      for (const file of files) {
        try {
          const s = loadScenario(file);
          const variants = Object.keys(s.target.variants);
          process.stdout.write(
            `ok ${file}: ${s.name}, load ${s.load.type}, ${s.invariants.length} invariant${s.invariants.length === 1 ? '' : 's'}, ${s.faults.length} fault${s.faults.length === 1 ? '' : 's'}${variants.length ? `, variants ${variants.join(', ')}` : ''}\n`,
          );
        } catch (err) {
          bad++;
          if (err instanceof ScenarioError) {
            const n = err.issues.length;
            process.stderr.write(
              `${file}: ${n} problem${n === 1 ? '' : 's'}\n${err.issues.map((i) => `  ${formatIssue(i)}`).join('\n')}\n`,
            );
          } else if (err instanceof WhatbreaksError) {
            process.stderr.write(`${file}: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
          } else {
            throw err;
          }
        }
      }
      process.exitCode = bad === 0 ? EXIT.PASS : EXIT.ERROR;
    });
}
