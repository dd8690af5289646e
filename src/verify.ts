import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { WhatbreaksError } from './errors.js';
import type { MutantResult } from './mutate/mutation-run.js';
import { type VerifyMutation, verifyMutants } from './mutate/verify-mutants.js';
import { interleaveOverview } from './report/interleave.js';
import { renderJunitSuites } from './report/junit.js';
import { verifySuites } from './report/junit-verify.js';
import { renderVerifyMarkdown } from './report/markdown-verify.js';
import type { RunReport, TrialVerdict, Verdict } from './report/types.js';
import { writeAtomic } from './report/write.js';
import { type RunEvent, type RunOutcome, runScenario } from './run.js';
import type { Scenario } from './scenario/types.js';
import { resolveVariant } from './scenario/variant.js';
import { type FailureBound, zeroFailureBound } from './stats/failure-bound.js';
import { type ProportionInterval, wilsonInterval } from './stats/wilson.js';
import { judgeScheduleVerify, judgeVerify, type ScheduleSideFacts, type VerifyVerdict } from './verdict.js';
import { VERSION } from './version.js';

export type { VerifyMutation } from './mutate/verify-mutants.js';
export type { VerifyVerdict } from './verdict.js';

/**
 * `verify`: does a candidate fix the failure a baseline shows? Runs one scenario against both, trial
 * by trial, alternating: baseline 1, candidate 1, baseline 2, candidate 2, …
 *
 * Design: both environments start at once (each `runScenario` run owns its own PostgreSQL and target
 * processes), then the two runs take turns through `RunOptions.beforeTrial`: a run may start trial k
 * only when it holds the turn, and hands it over when its trial ends. Only one trial runs at any
 * moment, so the sides never compete for the two cores, while slow drifts of the machine (another
 * job, thermal throttling, a filling disk) hit both sides alike instead of all of one side's trials.
 * A side that ends early (environment error) leaves the turn to the other; an error on one side stops
 * the other too (nothing can be judged).
 *
 * Verdict: `judgeVerify` in `verdict.ts` (the rules, in order, and why; `docs/verdicts.md`). In short:
 * `error` (exit 2) when a side could not run; `fix not validated` (exit 1) when the candidate violated;
 * `not reproduced` (exit 1) when the baseline never violated in its judged trials; `inconclusive` (exit 3)
 * when no baseline trial or not every candidate trial could be judged; else `fix validated` (exit 0).
 * Unknown and aborted trials are never a reproduction and never a candidate pass.
 *
 * Sides. A side is a variant name of the scenario (`buggy`) or a folder (anything with a `/`, or `.`
 * / `..`): a checkout of the project that holds the scenario, e.g. a git worktree of a pull request
 * (built, if the target needs building). For a folder side, every path the scenario resolved inside
 * its project root — the target's `cwd`, variants' `cwd`, database schema and seed files — is re-rooted
 * into that folder (`<root>/scenarios` → `<folder>/scenarios`); paths outside the root stay. The project
 * root is the nearest folder above the scenario file holding `package.json` or `.git`, else the
 * scenario's folder (then the target `cwd` is simply replaced by the folder). A folder side runs the
 * variant `pathVariant` (default: the scenario's default variant), with that variant's env and command.
 */

export type VerifyRole = 'baseline' | 'candidate';

export interface VerifySide {
  role: VerifyRole;
  /** As given: a variant name or a folder. */
  spec: string;
  kind: 'variant' | 'path';
  variant: string;
  /** Absolute folder the target ran from, for a folder side. */
  path?: string;
  runDir: string;
  reportFile: string;
  verdict: Verdict;
  trials: number;
  passed: number;
  failed: number;
  unknown: number;
  /** Trials interrupted while they ran: recorded, counted neither passed nor failed. */
  abortedTrials: number;
  /** Trials with a violation / trials run (aborted ones not counted), with its 95 % Wilson interval. */
  failureRate: ProportionInterval;
  /** Invariant name → trials in which it was violated. */
  violated: Record<string, number>;
  aborted: boolean;
  error?: { code: string; message: string; hint?: string };
}

/** `verify.json`. Versioned like report.json. */
export interface VerifyReport {
  schemaVersion: 1;
  kind: 'verify';
  tool: { name: 'whatbreaks'; version: string; node: string };
  scenario: { name: string; file: string; description?: string };
  /** ISO 8601. */
  startedAt: string;
  durationMs: number;
  trialsRequested: number;
  verdict: VerifyVerdict;
  /** What the verdict means, in one or two sentences a person reads. */
  explanation: string;
  baseline: VerifySide;
  /** `failureBound`: upper 95 % bounds on the candidate's failure rate from its passed trials. */
  candidate: VerifySide & { failureBound: FailureBound };
  /** The order trials ran in, as it happened. */
  order: { side: VerifyRole; trial: number; verdict: TrialVerdict }[];
  aborted: boolean;
  /** `interleave` scenarios: what each side explored and its first failing schedule. */
  schedules?: { baseline: ScheduleSideFacts; candidate: ScheduleSideFacts };
  /** `--mutants`: the candidate's SQL mutants, run after both sides (`mutate/verify-mutants.ts`). */
  mutants?: VerifyMutation;
}

export type VerifyEvent = { side: VerifyRole; event: RunEvent };

export interface VerifyOptions {
  /** Variant name or folder of the code that shows the failure. */
  baseline: string;
  /** Variant name or folder of the code that should fix it. */
  candidate: string;
  /** Trials per side; default the scenario's `trials`. */
  trials?: number;
  /** Variant run by a folder side; default the scenario's default variant. */
  pathVariant?: string;
  /** Output folder; default `<reportsDir>/<scenario>-verify-<time>`. Sides write to `baseline/` and `candidate/` in it. */
  outDir?: string;
  reportsDir?: string;
  signal?: AbortSignal;
  onEvent?: (e: VerifyEvent) => void;
  /** Ask each side's run for `tick` events every `tickMs` ms (`RunOptions.tickMs`); default none. */
  tickMs?: number;
  /**
   * After both sides, run the candidate's SQL mutants into `<outDir>/mutants/` when the candidate passed
   * (docs/mutants.md): `trials` per mutant (default the scenario's), `minScore` (0..1) gates the exit.
   */
  mutants?: { trials?: number; minScore?: number };
  /** Events of the mutants' runs (discovery, each mutant's trials) and each mutant's result. */
  onMutantEvent?: (e: RunEvent | { type: 'mutant'; result: MutantResult }) => void;
}

export interface VerifyOutcome {
  report: VerifyReport;
  outDir: string;
  /** verify.json */
  reportFile: string;
  /** verify.md, junit.xml */
  files: string[];
}

/** A side spec is a folder when it contains a path separator or is `.` / `..`; else a variant name. */
export function isPathSpec(spec: string): boolean {
  return spec.includes('/') || spec.includes(sep) || spec === '.' || spec === '..';
}

function projectRoot(scenarioDir: string): string {
  let dir = scenarioDir;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) || existsSync(join(dir, '.git'))) return dir;
    const up = dirname(dir);
    if (up === dir) return scenarioDir;
    dir = up;
  }
}

/**
 * The scenario as it runs from `folder` (see the module docstring for the rule).
 * @throws WhatbreaksError `USAGE` when the folder or the re-rooted target folder does not exist.
 */
export function rebaseScenario(scenario: Scenario, folder: string): Scenario {
  const to = resolve(folder);
  if (!existsSync(to) || !statSync(to).isDirectory()) {
    throw new WhatbreaksError(
      'USAGE',
      `not a folder: ${folder}`,
      'give a variant name of the scenario or a checkout folder (e.g. a git worktree)',
    );
  }
  const root = projectRoot(scenario.dir);
  const map = (p: string): string => {
    const rel = relative(root, p);
    return rel.startsWith('..') || isAbsolute(rel) ? p : join(to, rel);
  };
  const cwd = map(scenario.target.cwd);
  if (!existsSync(cwd)) {
    throw new WhatbreaksError(
      'USAGE',
      `${folder}: the target folder ${relative(root, scenario.target.cwd) || '.'} of the scenario is not there (looked for ${cwd})`,
      `a folder side must be a checkout of the project at ${root} (same layout), e.g. \`git worktree add <dir> <branch>\``,
    );
  }
  return {
    ...scenario,
    target: {
      ...scenario.target,
      cwd,
      variants: Object.fromEntries(
        Object.entries(scenario.target.variants).map(([k, v]) => [
          k,
          { ...v, cwd: v.cwd === undefined ? undefined : map(v.cwd) },
        ]),
      ),
    },
    database: {
      ...scenario.database,
      schema: scenario.database.schema.map((f) => (existsSync(map(f)) ? map(f) : f)),
      seed: scenario.database.seed.map((f) => (existsSync(map(f)) ? map(f) : f)),
    },
  };
}

interface SidePlan {
  role: VerifyRole;
  spec: string;
  kind: 'variant' | 'path';
  variant: string;
  path?: string;
  scenario: Scenario;
}

function planSide(role: VerifyRole, spec: string, scenario: Scenario, pathVariant?: string): SidePlan {
  if (isPathSpec(spec)) {
    const s = rebaseScenario(scenario, spec);
    const variant = resolveVariant(s, pathVariant).variant;
    return { role, spec, kind: 'path', variant, path: resolve(spec), scenario: s };
  }
  const variant = resolveVariant(scenario, spec).variant; // throws VARIANT_UNKNOWN with the list
  return { role, spec, kind: 'variant', variant, scenario };
}

/**
 * Turn-taking between runs: `wait(i)` resolves when side `i` holds the turn; `pass(i)` hands it to the
 * next side still running; `finish(i)` takes side `i` out of the rotation.
 */
class Turns {
  private turn = 0;
  private readonly done: boolean[];
  private readonly waiting = new Map<number, () => void>();
  constructor(private readonly sides: number) {
    this.done = Array.from({ length: sides }, () => false);
  }
  wait(i: number): Promise<void> {
    if (this.turn === i) return Promise.resolve();
    return new Promise((r) => this.waiting.set(i, r));
  }
  pass(i: number): void {
    if (this.turn !== i) return;
    for (let k = 1; k <= this.sides; k++) {
      const next = (i + k) % this.sides;
      if (!this.done[next]) {
        this.turn = next;
        const wake = this.waiting.get(next);
        this.waiting.delete(next);
        wake?.();
        return;
      }
    }
  }
  finish(i: number): void {
    this.done[i] = true;
    this.pass(i);
  }
}

function sideSummary(plan: SidePlan, o: RunOutcome): VerifySide {
  const r = o.report;
  const violated: Record<string, number> = {};
  for (const t of r.trials)
    for (const inv of t.invariants)
      if (inv.holds === false) violated[inv.name] = (violated[inv.name] ?? 0) + 1;
  return {
    role: plan.role,
    spec: plan.spec,
    kind: plan.kind,
    variant: plan.variant,
    ...(plan.path ? { path: plan.path } : {}),
    runDir: o.runDir,
    reportFile: o.reportFile,
    verdict: r.verdict,
    trials: r.summary.trials,
    passed: r.summary.passed,
    failed: r.summary.failed,
    unknown: r.summary.unknown,
    abortedTrials: r.summary.aborted ?? 0,
    failureRate: wilsonInterval(r.summary.failed, r.summary.trials - (r.summary.aborted ?? 0)),
    violated,
    aborted: r.aborted,
    ...(r.error ? { error: r.error } : {}),
  };
}

/**
 * The verdict and its explanation from both sides' summaries: `judgeVerify` (`verdict.ts`), with the
 * candidate's N = `trialsRequested` trials all needed for a validation.
 */
export function judge(
  b: VerifySide,
  c: VerifySide,
  trialsRequested: number,
): { verdict: VerifyVerdict; explanation: string } {
  const { verdict, explanation } = judgeVerify(b, c, trialsRequested);
  return { verdict, explanation };
}

/** An interleave run's exploration and first failing schedule, or undefined for other loads. */
function scheduleFacts(r: RunReport): ScheduleSideFacts | undefined {
  const il = interleaveOverview(r);
  if (!il || !r.interleave) return undefined;
  const failing = il.failing[0]?.load.interleave?.schedule;
  return { exploration: r.interleave, ...(failing ? { failing } : {}) };
}

/**
 * Run the scenario against baseline and candidate, alternating trials, and judge the fix. Writes
 * `verify.json`, `verify.md` and `junit.xml` into the output folder, and each side's full run
 * (report.json, report.md, report.html, junit.xml, logs) into `baseline/` and `candidate/`. With
 * `options.mutants`, then the candidate's mutants into `mutants/` (mutation.json, .md, .html, a run folder
 * per mutant), their score and gate in `verify.json`'s `mutants` and in verify.md.
 *
 * Environment errors do not throw: they give verdict `error`. Bad arguments (unknown variant, missing
 * folder) throw `WhatbreaksError` before anything starts.
 */
export async function verify(scenario: Scenario, options: VerifyOptions): Promise<VerifyOutcome> {
  const plans = [
    planSide('baseline', options.baseline, scenario, options.pathVariant),
    planSide('candidate', options.candidate, scenario, options.pathVariant),
  ] as const;
  // An interleave scenario runs each side's whole exploration (one trial per schedule) unless told otherwise.
  const schedules = scenario.load.type === 'interleave';
  const trials = schedules ? options.trials : (options.trials ?? scenario.trials);
  const startedAt = new Date();
  const outDir = resolve(
    options.outDir ??
      join(
        options.reportsDir ?? 'reports',
        `${scenario.name}-verify-${startedAt.toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`,
      ),
  );
  const t0 = performance.now();
  const turns = new Turns(plans.length);
  const order: VerifyReport['order'] = [];
  // One controller per side: the user's abort stops both; an error on one side stops the other.
  const controllers = plans.map(() => new AbortController());
  const onAbort = () => {
    for (const c of controllers) c.abort();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  const runSide = async (i: 0 | 1): Promise<RunOutcome> => {
    const plan = plans[i];
    try {
      const outcome = await runScenario(plan.scenario, {
        variant: plan.variant,
        trials,
        outDir: join(outDir, plan.role),
        signal: controllers[i]!.signal,
        beforeTrial: () => turns.wait(i),
        tickMs: options.tickMs,
        onEvent: (event) => {
          if (event.type === 'trial-end') {
            order.push({ side: plan.role, trial: event.report.trial, verdict: event.report.verdict });
          }
          options.onEvent?.({ side: plan.role, event });
          if (event.type === 'trial-end') turns.pass(i);
        },
      });
      if (outcome.report.error) controllers[1 - i]!.abort();
      return outcome;
    } catch (err) {
      controllers[1 - i]!.abort(); // a bug in whatbreaks: stop the other side, then surface it
      throw err;
    } finally {
      turns.finish(i);
    }
  };
  const outcomes = await Promise.all([runSide(0), runSide(1)]);
  options.signal?.removeEventListener('abort', onAbort);

  const [b, c] = [sideSummary(plans[0], outcomes[0]), sideSummary(plans[1], outcomes[1])];
  const mutants = options.mutants
    ? await verifyMutants({
        scenario: plans[1].scenario,
        variant: plans[1].variant,
        candidate: c,
        outDir: join(outDir, 'mutants'),
        trials: options.mutants.trials,
        minScore: options.mutants.minScore,
        signal: options.signal,
        onEvent: options.onMutantEvent,
      })
    : undefined;
  // A side stopped because the other one failed is not "aborted by the user".
  const userAborted = options.signal?.aborted ?? false;
  const facts = outcomes.map((o) => scheduleFacts(o.report));
  const { verdict, explanation } =
    schedules && facts[0] && facts[1]
      ? judgeScheduleVerify(b, c, facts[0], facts[1])
      : judge(b, c, trials ?? c.trials);
  const report: VerifyReport = {
    schemaVersion: 1,
    kind: 'verify',
    tool: { name: 'whatbreaks', version: VERSION, node: process.version },
    scenario: { name: scenario.name, file: scenario.file, description: scenario.description },
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    trialsRequested: trials ?? c.trials,
    ...(facts[0] && facts[1] ? { schedules: { baseline: facts[0], candidate: facts[1] } } : {}),
    // An interrupted verify has fewer candidate trials than asked: `judge` already says inconclusive.
    verdict,
    explanation: userAborted ? `Interrupted after ${order.length} trials. ${explanation}` : explanation,
    baseline: b,
    candidate: { ...c, failureBound: zeroFailureBound(c.passed) },
    order,
    aborted: userAborted,
    ...(mutants ? { mutants } : {}),
  };
  const reportFile = join(outDir, 'verify.json');
  writeAtomic(reportFile, `${JSON.stringify(report, null, 2)}\n`);
  const md = join(outDir, 'verify.md');
  writeAtomic(md, renderVerifyMarkdown(report, [outcomes[0].report, outcomes[1].report]));
  const junit = join(outDir, 'junit.xml');
  writeAtomic(
    junit,
    renderJunitSuites(verifySuites(report, outcomes[1].report), `whatbreaks verify ${scenario.name}`),
  );
  return { report, outDir, reportFile, files: [md, junit] };
}
