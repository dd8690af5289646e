import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import pc from 'picocolors';
import { ENVIRONMENT_CHOICES, type EnvironmentChoice } from '../env/select.js';
import { renderSummary, renderTrial } from '../report/terminal.js';
import { runScenario } from '../run.js';
import { loadScenario } from '../scenario/load.js';
import { positiveInt } from './arg-parsers.js';
import { exitForRun } from './exit-codes.js';
import { interruptible } from './interrupt.js';
import { refuseEarlierReport } from './out-dir.js';
import { createPrinter } from './progress.js';

function buildArg(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq < 1) throw new InvalidArgumentError('expected NAME=VALUE');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
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
    .option('--force', 'let --out overwrite a folder that holds an earlier report')
    .option('-q, --quiet', 'print only the summary')
    .addOption(
      new Option(
        '--env <kind>',
        'where to run: local (embedded PostgreSQL, child processes), docker (containers), auto (docker when a container runtime answers and the scenario has target.docker)',
      )
        .choices(ENVIRONMENT_CHOICES)
        .default('auto')
        .env('WHATBREAKS_ENV'),
    )
    .addOption(
      new Option('--postgres-image <image>', 'PostgreSQL image for --env docker (default: postgres:16)').env(
        'WHATBREAKS_POSTGRES_IMAGE',
      ),
    )
    .option('--build-arg <name=value>', "build argument for the target's Dockerfile (repeatable)", buildArg)
    .option(
      '--allow-remote',
      'allow a target.url or database.url that is not on this machine (prints a warning)',
    )
    .action(
      async (
        file: string,
        opts: {
          variant?: string;
          trials?: number;
          out?: string;
          force?: boolean;
          quiet?: boolean;
          env: EnvironmentChoice;
          postgresImage?: string;
          buildArg?: Record<string, string>;
          allowRemote?: boolean;
        },
      ) => {
        const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
        const scenario = loadScenario(file);
        refuseEarlierReport(opts.out, opts.force, ['report.json']);
        const print = createPrinter();
        const interrupt = interruptible('step', print.err);
        const run = runScenario(scenario, {
          variant: opts.variant,
          trials: opts.trials,
          outDir: opts.out,
          signal: interrupt.signal,
          env: opts.env,
          docker: { postgresImage: opts.postgresImage, buildArgs: opts.buildArg },
          allowRemote: opts.allowRemote,
          tickMs: print.tickMs,
          onEvent: (e) => {
            print.event(e);
            if (e.type === 'environment') print.err(pc.dim(`environment: ${e.kind} — ${e.reason}`));
            else if (e.type === 'log' && e.line.startsWith('warning:')) print.err(pc.yellow(e.line));
            else if (e.type === 'log' && !opts.quiet) print.err(pc.dim(`  ${e.line}`));
            else if (e.type === 'trial-end' && !opts.quiet) print.out(renderTrial(e.report, e.of, { color }));
            else if (e.type === 'trial-end' && e.report.inconclusive)
              // Even --quiet says why a trial could not be judged: an unexplained exit 3 helps nobody.
              print.out(
                `trial ${e.report.trial}/${e.of} ${e.report.verdict.toUpperCase()}: ${e.report.inconclusive}`,
              );
          },
        });
        interrupt.track(run);
        const { report, reportFile } = await run.finally(print.stop);
        process.stdout.write(`${renderSummary(report, reportFile, { color })}\n`);
        process.exitCode = exitForRun(report);
      },
    );
}
