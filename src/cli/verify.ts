import type { Command } from 'commander';
import pc from 'picocolors';
import { WhatbreaksError } from '../errors.js';
import { renderMutationTerminal } from '../mutate/mutation-render.js';
import { renderTrial } from '../report/terminal.js';
import { loadScenario } from '../scenario/load.js';
import { trialsForBound } from '../stats/failure-bound.js';
import { type VerifyReport, type VerifySide, verify } from '../verify.js';
import { fraction, positiveInt } from './arg-parsers.js';
import { EXIT, exitForVerifyWithMutants } from './exit-codes.js';
import { interruptible } from './interrupt.js';
import { refuseEarlierReport } from './out-dir.js';
import { createPrinter } from './progress.js';

function pct(x: number): string {
  return `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;
}

function sideLine(s: VerifySide): string {
  const where = s.kind === 'path' ? `${s.spec} (folder, variant ${s.variant})` : s.spec;
  const counted = s.trials - s.abortedTrials;
  if (counted === 0)
    return `  ${s.role.padEnd(9)} ${where}: no trial ran${s.abortedTrials ? ` (${s.abortedTrials} aborted)` : ''}`;
  return (
    `  ${s.role.padEnd(9)} ${where}: violated in ${s.failed}/${counted} trials` +
    `${s.unknown ? `, ${s.unknown} unknown` : ''}${s.abortedTrials ? `, ${s.abortedTrials} aborted` : ''}  rate ${pct(s.failureRate.rate)} ` +
    `(95% Wilson CI ${pct(s.failureRate.low)}–${pct(s.failureRate.high)})`
  );
}

/** The failure-rate bound `verify` aims a user at: below 5 %, at 95 % confidence. */
const USEFUL_BOUND = 0.05;

/** The closing lines of `verify`: verdict, both rates with intervals, the candidate's bound. */
export function renderVerifySummary(v: VerifyReport, color: boolean): string {
  const c = color ? pc : { green: String, red: String, yellow: String, bold: String, dim: String };
  const paint =
    v.verdict === 'fix validated' ? c.green : v.verdict === 'fix not validated' ? c.red : c.yellow;
  const lines = [
    '',
    `${c.bold(v.scenario.name)}: ${paint(c.bold(v.verdict))}`,
    sideLine(v.baseline),
    sideLine(v.candidate),
  ];
  const b = v.candidate.failureBound;
  // Schedules are a proof within the bound, not a sample: no rate bound for them.
  if (!v.schedules && v.candidate.failed === 0 && b.trials > 0) {
    lines.push(
      `  candidate failure rate ≤ ${pct(b.exact95)} (95%, exact 1−0.05^(1/${b.trials})); rule of three: ≤ ${pct(b.ruleOfThree)}`,
    );
    // A validation on few trials bounds little: say how many a useful bound takes.
    const needed = trialsForBound(USEFUL_BOUND);
    if (v.verdict === 'fix validated' && b.exact95 >= USEFUL_BOUND) {
      lines.push(
        `  a bound below ${USEFUL_BOUND * 100}% needs ${needed} candidate trials without a failure (this run: ${b.trials}); run with --trials ${needed}`,
      );
    }
  }
  lines.push(v.explanation);
  for (const s of [v.baseline, v.candidate]) {
    if (s.error)
      lines.push(
        c.red(`${s.role} error [${s.error.code}]: ${s.error.message}`),
        ...(s.error.hint ? [`hint: ${s.error.hint}`] : []),
      );
  }
  if (v.mutants) lines.push(...mutantLines(v.mutants, c));
  lines.push(c.dim(`trial order: ${v.order.map((o) => `${o.side[0]}${o.trial}`).join(' ')}`));
  lines.push(c.dim(`reports: ${v.baseline.runDir}, ${v.candidate.runDir}`));
  return lines.join('\n');
}

/** The mutants' part of the summary: each mutant, the score, and the gate or why none ran. */
function mutantLines(
  m: NonNullable<VerifyReport['mutants']>,
  c: { red(s: string): string; green(s: string): string; yellow(s: string): string; dim(s: string): string },
): string[] {
  const paint = m.outcome === 'pass' ? c.green : m.outcome === 'fail' ? c.red : c.yellow;
  const lines = ['', 'mutants of the candidate:'];
  if (m.report) lines.push(renderMutationTerminal(m.report));
  // The score line is already the last terminal line; repeat only a judgement or a reason.
  if (!m.report || m.gate || m.report.discovery.problem) lines.push(paint(m.message));
  if (m.report) lines.push(c.dim(`mutants: ${m.outDir}/mutation.md (also .json, .html)`));
  return lines;
}

/** `whatbreaks verify <scenario> --baseline <variant|dir> --candidate <variant|dir>`: parse, verify, print. */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      'run baseline and candidate in alternating trials and judge whether the candidate fixes the failure',
    )
    .argument('<scenario>', 'scenario file (YAML)')
    .requiredOption('--baseline <variant|dir>', 'variant name, or a folder (checkout) of the code that fails')
    .requiredOption('--candidate <variant|dir>', 'variant name, or a folder (checkout) of the fix')
    .option(
      '--trials <n>',
      'trials per side (default: the scenario trials; interleave: every schedule of the exploration)',
      positiveInt,
    )
    .option('--variant <name>', 'variant run by a folder side (default: the scenario default)')
    .option('--out <dir>', 'output folder (default: reports/<scenario>-verify-<time>)')
    .option('--force', 'let --out overwrite a folder that holds an earlier report')
    .option('-q, --quiet', 'print only the verdict')
    .option(
      '--mutants',
      'after both sides, when the candidate passed: remove each SQL protection it uses, one at a time, and check the scenario notices (written to <out>/mutants/)',
    )
    .option('--mutant-trials <n>', 'trials per mutant (default: the scenario trials)', positiveInt)
    .option(
      '--min-mutation-score <x>',
      'with --mutants: exit 1 when killed / (killed + survived) is below x (0..1), 3 when unknown mutants leave it undecided',
      fraction,
    )
    .action(
      async (
        file: string,
        opts: {
          baseline: string;
          candidate: string;
          trials?: number;
          variant?: string;
          out?: string;
          force?: boolean;
          quiet?: boolean;
          mutants?: boolean;
          mutantTrials?: number;
          minMutationScore?: number;
        },
      ) => {
        if (!opts.mutants && (opts.mutantTrials !== undefined || opts.minMutationScore !== undefined))
          throw new WhatbreaksError(
            'USAGE',
            `${opts.mutantTrials !== undefined ? '--mutant-trials' : '--min-mutation-score'} needs --mutants`,
            "add --mutants to run the candidate's SQL mutants after verify",
          );
        const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
        const scenario = loadScenario(file);
        refuseEarlierReport(opts.out, opts.force, [
          'verify.json',
          'report.json',
          'baseline/report.json',
          'candidate/report.json',
        ]);
        const print = createPrinter();
        const interrupt = interruptible('trial', print.err);
        const run = verify(scenario, {
          baseline: opts.baseline,
          candidate: opts.candidate,
          trials: opts.trials,
          pathVariant: opts.variant,
          outDir: opts.out,
          signal: interrupt.signal,
          tickMs: print.tickMs,
          ...(opts.mutants
            ? { mutants: { trials: opts.mutantTrials, minScore: opts.minMutationScore } }
            : {}),
          onMutantEvent: (e) => {
            if (e.type === 'mutant') print.err(pc.dim(`mutant ${e.result.id}: ${e.result.outcome}`));
            else print.event(e, 'mutants');
          },
          onEvent: ({ side, event: e }) => {
            print.event(e, side);
            if (e.type === 'environment' && side === 'baseline')
              print.err(pc.dim(`environment: ${e.kind} — ${e.reason}`));
            else if (e.type === 'trial-end' && !opts.quiet)
              print.out(`${side.padEnd(9)} ${renderTrial(e.report, e.of, { color })}`);
            else if (e.type === 'trial-end' && e.report.inconclusive)
              print.out(
                `${side.padEnd(9)} trial ${e.report.trial}/${e.of} ${e.report.verdict.toUpperCase()}: ${e.report.inconclusive}`,
              );
          },
        });
        interrupt.track(run);
        const { report, outDir } = await run.finally(print.stop);
        process.stdout.write(
          `${renderVerifySummary(report, color)}\n${pc.dim(`verdict: ${outDir}/verify.json`)}\n`,
        );
        process.exitCode = report.aborted
          ? EXIT.SIGINT
          : exitForVerifyWithMutants(report.verdict, report.mutants?.outcome);
      },
    );
}
