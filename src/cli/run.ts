import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import pc from 'picocolors';
import { installSignalHandlers } from '../env/teardown.js';
import { renderSummary, renderTrial } from '../report/terminal.js';
import { runScenario } from '../run.js';
import { loadScenario } from '../scenario/load.js';
import { EXIT, exitForVerdict } from './exit-codes.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return n;
}

/** `whatbreaks run <scenario>`: parse, run, print. No logic here beyond wiring. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a scenario against its target and check its invariants')
    .argument('<scenario>', 'scenario file (YAML)')
    .option('--variant <name>', 'target variant to run (default: the scenario default)')
    .option('--trials <n>', 'number of trials (default: the scenario trials)', positiveInt)
    .option('--out <dir>', 'folder for this run (default: reports/<scenario>-<variant>-<time>)')
    .option('-q, --quiet', 'print only the summary')
    .action(
      async (file: string, opts: { variant?: string; trials?: number; out?: string; quiet?: boolean }) => {
        const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
        const scenario = loadScenario(file);
        const controller = new AbortController();
        let finished: Promise<unknown> = Promise.resolve();
        installSignalHandlers({
          onSignal: (signal) => {
            process.stderr.write(
              `\n${signal}: stopping after the current step, tearing down, writing the report…\n`,
            );
            controller.abort();
            return finished.then(() => undefined);
          },
        });
        const run = runScenario(scenario, {
          variant: opts.variant,
          trials: opts.trials,
          outDir: opts.out,
          signal: controller.signal,
          onEvent: (e) => {
            if (e.type === 'environment')
              process.stderr.write(pc.dim(`environment: ${e.kind} — ${e.reason}\n`));
            else if (e.type === 'log' && !opts.quiet) process.stderr.write(pc.dim(`  ${e.line}\n`));
            else if (e.type === 'trial-end' && !opts.quiet)
              process.stdout.write(`${renderTrial(e.report, e.of, { color })}\n`);
          },
        });
        finished = run.catch(() => undefined);
        const { report, reportFile } = await run;
        process.stdout.write(`${renderSummary(report, reportFile, { color })}\n`);
        if (report.aborted) process.exitCode = EXIT.SIGINT;
        else if (report.error) process.exitCode = EXIT.ERROR;
        else process.exitCode = exitForVerdict(report.verdict);
      },
    );
}
