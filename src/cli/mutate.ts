import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { judgeMutationScore } from '../mutate/mutation-gate.js';
import { renderMutationTerminal } from '../mutate/mutation-render.js';
import { runMutants } from '../mutate/mutation-run.js';
import { mutationFile } from '../mutate/mutation-schema.js';
import { writeMutationFiles } from '../mutate/mutation-write.js';
import { loadScenario } from '../scenario/load.js';
import { fraction, positiveInt } from './arg-parsers.js';
import { EXIT } from './exit-codes.js';
import { interruptible } from './interrupt.js';
import { refuseEarlierReport } from './out-dir.js';

/** `whatbreaks mutate <scenario>`: run the candidate's SQL mutants (docs/mutants.md). Wiring only. */
export function registerMutate(program: Command): void {
  program
    .command('mutate')
    .description(
      'remove each SQL protection the candidate uses (row lock, isolation, advisory lock, upsert, update predicate, schema constraint), one at a time, and check the scenario notices',
    )
    .argument('<scenario>', 'scenario file (YAML)')
    .option('--variant <name>', 'the candidate (fixed) variant (default: the scenario default)')
    .option('--trials <n>', 'trials per mutant (default: the scenario trials)', positiveInt)
    .option(
      '--min-mutation-score <x>',
      'exit 1 when killed / (killed + survived) is below x (0..1)',
      fraction,
    )
    .option('--out <dir>', 'folder for the mutation run (default: reports/<scenario>-mutants-<time>)')
    .option('--force', 'let --out overwrite a folder that holds an earlier report')
    .action(
      async (
        file: string,
        opts: { variant?: string; trials?: number; minMutationScore?: number; out?: string; force?: boolean },
      ) => {
        const scenario = loadScenario(file);
        refuseEarlierReport(opts.out, opts.force, ['mutation.json']);
        const outDir = resolve(
          opts.out ??
            join('reports', `${scenario.name}-mutants-${new Date().toISOString().replace(/[:.]/g, '-')}`),
        );
        mkdirSync(outDir, { recursive: true });
        const startedAt = new Date();
        const t0 = performance.now();
        const interrupt = interruptible('step', (l) => process.stderr.write(`${l}\n`));
        const run = runMutants(scenario, {
          variant: opts.variant,
          trials: opts.trials,
          outDir,
          signal: interrupt.signal,
          onEvent: (e) => {
            if (e.type === 'mutant')
              process.stderr.write(pc.dim(`mutant ${e.result.id}: ${e.result.outcome}\n`));
          },
        });
        interrupt.track(run);
        const report = await run;
        const [, md, html] = writeMutationFiles(
          outDir,
          mutationFile(report, startedAt, performance.now() - t0, opts.trials),
        );
        process.stdout.write(
          `${renderMutationTerminal(report)}\nreport: ${md} (also ${html}, mutation.json)\n`,
        );
        if (interrupt.signal.aborted) {
          process.exitCode = EXIT.SIGINT;
          return;
        }
        if (report.discovery.problem) {
          process.exitCode = report.discovery.verdict === 'fail' ? EXIT.FAIL : EXIT.UNKNOWN;
          return;
        }
        if (opts.minMutationScore === undefined) return;
        const gate = judgeMutationScore(report, opts.minMutationScore);
        process.stdout.write(`${gate.message}\n`);
        if (!gate.pass) process.exitCode = gate.exit === 'fail' ? EXIT.FAIL : EXIT.UNKNOWN;
      },
    );
}
