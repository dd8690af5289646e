import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import pc from 'picocolors';
import { WhatbreaksError } from '../errors.js';
import { parseSchedule } from '../interleave/schedule.js';
import { applyMutant } from '../mutate/mutant-apply.js';
import { renderSummary, renderTrial } from '../report/terminal.js';
import type { RunReport } from '../report/types.js';
import { runScenario } from '../run.js';
import { loadScenario } from '../scenario/load.js';
import type { Scenario } from '../scenario/types.js';
import { positiveInt } from './arg-parsers.js';
import { exitForRun } from './exit-codes.js';
import { interruptible } from './interrupt.js';
import { refuseEarlierReport } from './out-dir.js';
import { createPrinter } from './progress.js';
import { reportFileOf } from './report.js';

/**
 * The scenario of a run report with its interleave load pinned to one schedule (`load.schedule`).
 * @throws WhatbreaksError `REPORT_INVALID` when the report's load is not `interleave` or its scenario file
 *   is gone; `USAGE` for a malformed schedule.
 */
export function replayScenario(report: RunReport, schedule: string): Scenario {
  parseSchedule(schedule);
  const scenario = loadScenario(report.scenario.file);
  if (scenario.load.type !== 'interleave') {
    throw new WhatbreaksError(
      'REPORT_INVALID',
      `${report.scenario.file}: load type is ${scenario.load.type}; only interleave runs have schedules to replay`,
    );
  }
  return { ...scenario, load: { ...scenario.load, schedule } };
}

/** `whatbreaks replay <run folder | report.json> --schedule <id>`: re-run exactly one schedule. */
export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      're-run exactly one schedule of an interleave run (same scenario file, same variant, same mutant for a run of whatbreaks mutate)',
    )
    .argument('<report>', 'run folder or its report.json')
    .requiredOption('--schedule <id>', 'the schedule, as the report shows it (e.g. 0.1.1.1.1.0.0.0)')
    .option('--variant <name>', 'target variant (default: the report run)')
    .option('--trials <n>', 'run the schedule this many times (default 1)', positiveInt)
    .option('--out <dir>', 'folder for this run (default: reports/<scenario>-<variant>-<time>)')
    .option('--force', 'let --out overwrite a folder that holds an earlier report')
    .option('-q, --quiet', 'print only the summary')
    .action(
      async (
        arg: string,
        opts: {
          schedule: string;
          variant?: string;
          trials?: number;
          out?: string;
          force?: boolean;
          quiet?: boolean;
        },
      ) => {
        const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
        refuseEarlierReport(opts.out, opts.force, ['report.json']);
        const report = JSON.parse(readFileSync(reportFileOf(arg), 'utf8')) as RunReport;
        const pinned = replayScenario(report, opts.schedule);
        // A mutant's run (`whatbreaks mutate`) replays against the same mutant; a schema mutant's files are
        // written again beside the mutant's report.
        const mutant = report.mutant;
        const applied = mutant ? await applyMutant(mutant, pinned, dirname(reportFileOf(arg))) : undefined;
        const scenario = applied?.scenario ?? pinned;
        if (mutant) process.stderr.write(pc.dim(`mutant ${mutant.label}: ${mutant.clause} removed again\n`));
        const print = createPrinter();
        const interrupt = interruptible('step', print.err);
        const run = runScenario(scenario, {
          variant: opts.variant ?? report.variant,
          trials: opts.trials,
          outDir: opts.out,
          env: 'local',
          ...(mutant && applied ? { mutant, sqlRewrite: applied.sqlRewrite } : {}),
          signal: interrupt.signal,
          tickMs: print.tickMs,
          onEvent: (e) => {
            print.event(e);
            if (e.type === 'log' && e.line.startsWith('warning:')) print.err(pc.yellow(e.line));
            else if (e.type === 'trial-end' && (!opts.quiet || e.report.inconclusive))
              print.out(renderTrial(e.report, e.of, { color }));
          },
        });
        interrupt.track(run);
        const { report: replayed, reportFile } = await run.finally(print.stop);
        process.stdout.write(`${renderSummary(replayed, reportFile, { color })}\n`);
        process.exitCode = exitForRun(replayed);
      },
    );
}
