import type { Verdict } from '../report/types.js';
import type { RunEvent } from '../run.js';
import type { Scenario } from '../scenario/types.js';
import { type GateOutcome, judgeMutationScore } from './mutation-gate.js';
import { scoreLine } from './mutation-render.js';
import { type MutantResult, type MutationReport, runMutants } from './mutation-run.js';
import { mutationFile } from './mutation-schema.js';
import { writeMutationFiles } from './mutation-write.js';

/**
 * `whatbreaks verify … --mutants`: after the baseline and the candidate, the candidate's SQL mutants
 * (`runMutants`, docs/mutants.md), judged only when the candidate passed every one of verify's trials —
 * a candidate that fails, or could not be judged, has no protection whose removal could be noticed.
 *
 * What the mutants add to verify's exit code (`exitForVerifyWithMutants`, exit-codes.ts):
 * - `fail` (exit 1): the score is below `--min-mutation-score` whatever the unknown mutants would have
 *   been, or the candidate failed the mutants' discovery trial (one more trial of the candidate, through
 *   the protocol proxy, with nothing rewritten: a violation there is a violation of the candidate);
 * - `unknown` (exit 3): unknown mutants put the score on both sides of the minimum, no mutation point was
 *   found while a minimum was asked for, the discovery trial was unknown, or a minimum was asked for and no
 *   mutant could run;
 * - `pass`: otherwise (without `--min-mutation-score` the score is reported, not gated).
 */
export interface VerifyMutation {
  /** Folder holding `discovery/`, one run folder per mutant, and mutation.json, .md, .html. */
  outDir: string;
  /** Trials per mutant as asked (`--mutant-trials`); absent: the scenario's trials. */
  trialsPerMutant?: number;
  /** `--min-mutation-score`, 0..1. */
  minScore?: number;
  /** Set when no mutant was run, with why (the candidate did not pass, or the run was interrupted). */
  notRun?: string;
  /** The mutants and the score (absent when `notRun`). */
  report?: MutationReport;
  /** The judgement against `minScore`, when one was given and mutants ran. */
  gate?: GateOutcome;
  /** What the mutants add to verify's verdict; see the module docstring. */
  outcome: 'pass' | 'fail' | 'unknown';
  /** One or more lines a person reads: the gate's message, the discovery problem, or the score line. */
  message: string;
}

export interface VerifyMutantsOptions {
  /** The candidate's scenario as it ran (for a folder side: re-rooted into that folder). */
  scenario: Scenario;
  variant: string;
  /** The candidate side's result in verify. */
  candidate: {
    verdict: Verdict;
    passed: number;
    aborted: boolean;
    error?: { code: string; message: string };
  };
  outDir: string;
  trials?: number;
  minScore?: number;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent | { type: 'mutant'; result: MutantResult }) => void;
}

/** Run (or decline to run) the candidate's mutants and judge them. Only whatbreaks bugs throw. */
export async function verifyMutants(o: VerifyMutantsOptions): Promise<VerifyMutation> {
  const base = {
    outDir: o.outDir,
    ...(o.trials === undefined ? {} : { trialsPerMutant: o.trials }),
    ...(o.minScore === undefined ? {} : { minScore: o.minScore }),
  };
  const c = o.candidate;
  const declined =
    o.signal?.aborted || c.aborted
      ? 'verify was interrupted before the mutants'
      : c.error || c.verdict !== 'pass' || c.passed === 0
        ? `the candidate (${o.variant}) did not pass verify's trials (${c.error ? `error ${c.error.code}` : c.verdict}): a candidate that fails or could not be judged has no mutants to judge`
        : undefined;
  if (declined) {
    return {
      ...base,
      notRun: declined,
      // A minimum that was asked for and could not be checked never passes.
      outcome: o.minScore === undefined ? 'pass' : 'unknown',
      message: `no mutant was run: ${declined}`,
    };
  }
  const startedAt = new Date();
  const t0 = performance.now();
  const report = await runMutants(o.scenario, {
    variant: o.variant,
    trials: o.trials,
    outDir: o.outDir,
    signal: o.signal,
    onEvent: o.onEvent,
  });
  writeMutationFiles(o.outDir, mutationFile(report, startedAt, performance.now() - t0, o.trials));
  if (report.discovery.problem) {
    return {
      ...base,
      report,
      outcome: report.discovery.verdict === 'fail' ? 'fail' : 'unknown',
      message:
        report.discovery.verdict === 'fail'
          ? `the candidate violated an invariant in the mutants' discovery trial (one more trial of the candidate, no SQL rewritten), so it does not hold in every trial; no mutant was run: ${report.discovery.problem}`
          : `no mutant was run: ${report.discovery.problem}`,
    };
  }
  if (o.minScore === undefined) return { ...base, report, outcome: 'pass', message: scoreLine(report) };
  const gate = judgeMutationScore(report, o.minScore);
  return { ...base, report, gate, outcome: gate.pass ? 'pass' : gate.exit, message: gate.message };
}
