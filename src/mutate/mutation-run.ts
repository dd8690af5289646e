/**
 * Running SQL mutants (docs/mutants.md): one discovery run of the candidate through the PostgreSQL
 * protocol proxy (it observes every Query and Parse text), then, per mutation point, the scenario's
 * trials with that point's rewrite applied at the proxy, each mutant classified:
 *
 * - `killed`: a trial failed (an invariant was violated); the first failing trial and its witnesses;
 * - `survived`: every trial passed and the mutant's statement was rewritten at least once;
 * - `unknown`: no trial failed, but some trial was unknown or aborted, the run broke off, or the rewrite
 *   never applied (the statement did not run): never counted as killed or survived.
 *
 * Mutation score = killed / (killed + survived); `null` when nothing was judged.
 *
 * Statement mutants only: schema mutants (`drop-constraint`) are discovered by `schema-mutants.ts` but not
 * run yet (they need the scenario's schema files swapped at each reset). Burst and other scenario loads
 * run their trials as usual; the seam for another load type is `runScenario` itself.
 */
import { type RunEvent, runScenario } from '../run.js';
import type { Scenario } from '../scenario/types.js';
import { type Discovery, discoverMutationPoints, type MutationPoint } from './discover.js';
import { statementMutantRewrite, statementMutantTag } from './mutant-apply.js';

export type MutantOutcome = 'killed' | 'survived' | 'unknown';

export interface MutantResult {
  readonly id: string;
  readonly label: string;
  readonly operator: string;
  readonly clause: string;
  readonly statement: string;
  /** Executions in the discovery run. */
  readonly seen: number;
  readonly outcome: MutantOutcome;
  /** Why, in one sentence. */
  readonly reason: string;
  readonly trials: { run: number; passed: number; failed: number; unknown: number; aborted: number };
  /** Statements the proxy rewrote during the mutant's trials. */
  readonly rewritten: number;
  /**
   * The first failing trial and the violated invariants' witnesses (killed only). Interleave scenarios:
   * the failing schedule and the command that replays it against the same mutant (a deterministic kill).
   */
  readonly killedBy?: {
    trial: number;
    schedule?: string;
    replay?: string;
    invariants: { name: string; summary: string; witnesses: Record<string, unknown>[] }[];
  };
  readonly runDir: string;
}

export interface MutationReport {
  readonly scenario: string;
  readonly variant: string;
  readonly discovery: {
    readonly runDir: string;
    readonly verdict: string;
    /** Set when the candidate did not pass the discovery run: no mutant was run. */
    readonly problem?: string;
    readonly statements: number;
    readonly refused: Discovery['refused'];
    readonly unparsed: Discovery['unparsed'];
  };
  readonly mutants: MutantResult[];
  readonly killed: number;
  readonly survived: number;
  readonly unknown: number;
  /** killed / (killed + survived); null when no mutant was judged. */
  readonly score: number | null;
}

export const SURVIVOR_MEANING =
  'the scenario cannot tell this protection matters: it is redundant, or the scenario is too weak';

export interface MutationRunOptions {
  variant?: string;
  /** Trials per mutant; default the scenario's. */
  trials?: number;
  /** Folder holding `discovery/` and one folder per mutant. */
  outDir: string;
  signal?: AbortSignal;
  onEvent?: (event: RunEvent | { type: 'mutant'; result: MutantResult }) => void;
}

/** Discover the mutation points of the candidate and run each mutant. Only whatbreaks bugs throw. */
export async function runMutants(scenario: Scenario, o: MutationRunOptions): Promise<MutationReport> {
  const seen = new Map<string, number>();
  const discoveryRun = await runScenario(scenario, {
    variant: o.variant,
    trials: 1,
    outDir: `${o.outDir}/discovery`,
    signal: o.signal,
    onEvent: o.onEvent,
    sqlRewrite: (sql) => {
      seen.set(sql, (seen.get(sql) ?? 0) + 1);
      return undefined;
    },
  });
  const variant = discoveryRun.report.variant;
  const discovery = await discoverMutationPoints([...seen].map(([sql, count]) => ({ sql, count })));
  const verdict = discoveryRun.report.verdict;
  const problem =
    verdict === 'pass'
      ? undefined
      : `the candidate (${variant}) did not pass without mutants (${verdict}${discoveryRun.report.error ? `: ${discoveryRun.report.error.message}` : ''}): mutants can only be judged against a passing candidate`;
  const mutants: MutantResult[] = [];
  if (!problem) {
    for (const point of discovery.points) {
      if (o.signal?.aborted) break;
      const result = await runMutant(scenario, point, variant, o);
      mutants.push(result);
      o.onEvent?.({ type: 'mutant', result });
    }
  }
  const count = (x: MutantOutcome) => mutants.filter((m) => m.outcome === x).length;
  const killed = count('killed');
  const survived = count('survived');
  return {
    scenario: scenario.name,
    variant,
    discovery: {
      runDir: discoveryRun.runDir,
      verdict,
      ...(problem ? { problem } : {}),
      statements: discovery.statements,
      refused: discovery.refused,
      unparsed: discovery.unparsed,
    },
    mutants,
    killed,
    survived,
    unknown: count('unknown'),
    score: killed + survived ? killed / (killed + survived) : null,
  };
}

async function runMutant(
  scenario: Scenario,
  point: MutationPoint,
  variant: string,
  o: MutationRunOptions,
): Promise<MutantResult> {
  const mutant = statementMutantTag(point);
  let rewritten = 0;
  const { report, runDir } = await runScenario(scenario, {
    variant,
    trials: o.trials,
    outDir: `${o.outDir}/${point.id.replace(/[^A-Za-z0-9@#._-]/g, '_').replace('#', '-')}`,
    signal: o.signal,
    onEvent: o.onEvent,
    mutant,
    sqlRewrite: await statementMutantRewrite(mutant, (n) => {
      rewritten += n;
    }),
  });
  const s = report.summary;
  const trials = {
    run: s.trials,
    passed: s.passed,
    failed: s.failed,
    unknown: s.unknown,
    aborted: s.aborted,
  };
  const base = {
    id: point.id,
    label: point.label,
    operator: point.operator,
    clause: point.clause,
    statement: point.statement,
    seen: point.seen,
    trials,
    rewritten,
    runDir,
  };
  const failed = report.trials.find((t) => t.verdict === 'fail');
  if (failed) {
    const invariants = failed.invariants
      .filter((i) => i.holds === false)
      .map((i) => ({ name: i.name, summary: i.summary, witnesses: i.witnesses.slice(0, 5) }));
    const schedule = failed.load.interleave?.schedule;
    return {
      ...base,
      outcome: 'killed',
      reason: `${schedule ? `schedule ${schedule} (trial ${failed.trial})` : `trial ${failed.trial}`} failed without ${point.clause}: ${invariants.map((i) => `${i.name}: ${i.summary}`).join('; ')}`,
      killedBy: {
        trial: failed.trial,
        invariants,
        ...(schedule ? { schedule, replay: `whatbreaks replay ${runDir} --schedule ${schedule}` } : {}),
      },
    };
  }
  const unknownWhy =
    report.error?.message ??
    (report.aborted ? 'the run was interrupted' : undefined) ??
    (s.unknown || s.aborted || s.trials === 0
      ? `${s.unknown} trial(s) unknown, ${s.aborted} aborted of ${s.trials}`
      : undefined) ??
    (rewritten === 0
      ? 'the mutated statement never ran during its trials: the mutant was not exercised'
      : undefined);
  if (unknownWhy || report.verdict !== 'pass')
    return { ...base, outcome: 'unknown', reason: unknownWhy ?? `verdict ${report.verdict}` };
  return {
    ...base,
    outcome: 'survived',
    reason: `all ${s.passed} trial(s) passed without ${point.clause} (${rewritten} statement(s) rewritten): ${SURVIVOR_MEANING}`,
  };
}
