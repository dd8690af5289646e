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
 * Then each schema mutant (`drop-constraint`, `schema-mutant-run.ts`): the constraint points of the
 * scenario's `database.schema` files (keys an `ON CONFLICT` the discovery run sent names as arbiter are
 * refused), each run as a copy of the scenario whose schema files lack that constraint, written into the
 * mutant's folder. Classified the same way, except that there is no rewrite to count; a mutant schema
 * that the seed or `setup` cannot be applied to is `unknown` (the run's DATABASE_FAILED error), never
 * killed. The run keeps the protocol proxy (without rewrites) so its trials run as the discovery run did.
 *
 * Burst and other scenario loads run their trials as usual; the seam for another load type is
 * `runScenario` itself.
 */
import { type RunEvent, runScenario } from '../run.js';
import type { Scenario } from '../scenario/types.js';
import { type Discovery, discoverMutationPoints, type MutationPoint } from './discover.js';
import { schemaMutantTag, statementMutantRewrite, statementMutantTag } from './mutant-apply.js';
import { discoverSchemaMutants, schemaMutantLabel, schemaMutantScenario } from './schema-mutant-run.js';
import type { ConstraintPoint, RefusedConstraint } from './schema-mutants.js';

export type MutantOutcome = 'killed' | 'survived' | 'unknown';

export interface MutantResult {
  readonly id: string;
  /**
   * `statement`: a rewrite at the proxy of a statement the candidate sends; `schema`: a constraint
   * dropped from the scenario's schema files (`file`, `constraint`).
   */
  readonly kind: 'statement' | 'schema';
  readonly label: string;
  readonly operator: string;
  readonly clause: string;
  /** The statement rewritten; for a schema mutant, the table and file (`job_status_history in ../schema.sql`). */
  readonly statement: string;
  /** Executions in the discovery run (0 for a schema mutant: it changes no statement). */
  readonly seen: number;
  /** Schema mutants: the schema file that declares the constraint, as the scenario names it. */
  readonly file?: string;
  /** Schema mutants: the constraint dropped (PostgreSQL's name) and its kind (`unique`, `check`, …). */
  readonly constraint?: {
    name: string;
    kind: ConstraintPoint['kind'];
    table: string;
    columns: readonly string[];
  };
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
    /** The scenario's schema files (relative to its folder), their refused constraints and unreadable files. */
    readonly schema: {
      readonly files: string[];
      readonly refused: RefusedConstraint[];
      readonly unparsed: { file: string; error: string }[];
    };
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
  const schema = await discoverSchemaMutants(scenario, [...seen.keys()]);
  const verdict = discoveryRun.report.verdict;
  const problem =
    verdict === 'pass'
      ? undefined
      : `the candidate (${variant}) did not pass without mutants (${verdict}${discoveryRun.report.error ? `: ${discoveryRun.report.error.message}` : ''}): mutants can only be judged against a passing candidate`;
  const mutants: MutantResult[] = [];
  if (!problem) {
    const specs = [...discovery.points.map(statementMutant), ...schema.points.map(schemaMutant)];
    for (const spec of specs) {
      if (o.signal?.aborted) break;
      const result = await runMutant(scenario, spec, variant, o);
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
      schema: { files: schema.files, refused: schema.refused, unparsed: schema.unparsed },
    },
    mutants,
    killed,
    survived,
    unknown: count('unknown'),
    score: killed + survived ? killed / (killed + survived) : null,
  };
}

/** What one mutant run needs: its description, and the rewrite at the proxy or the schema change. */
interface MutantSpec {
  readonly base: Pick<MutantResult, 'id' | 'kind' | 'label' | 'operator' | 'clause' | 'statement' | 'seen'> &
    Pick<MutantResult, 'file' | 'constraint'>;
  /** Statement mutants: the proxy's rewrite. */
  readonly point?: MutationPoint;
  /** Schema mutants: the scenario copy without the constraint, its files written into `dir`. */
  readonly scenario?: (scenario: Scenario, dir: string) => Scenario;
}

function statementMutant(point: MutationPoint): MutantSpec {
  const { id, label, operator, clause, statement, seen } = point;
  return { base: { id, kind: 'statement', label, operator, clause, statement, seen }, point };
}

function schemaMutant(point: ConstraintPoint): MutantSpec {
  return {
    base: {
      id: point.id,
      kind: 'schema',
      label: schemaMutantLabel(point),
      operator: point.operator,
      clause: point.clause,
      statement: `${point.table} in ${point.file}`,
      seen: 0,
      file: point.file,
      constraint: { name: point.constraint, kind: point.kind, table: point.table, columns: point.columns },
    },
    scenario: (s, dir) => schemaMutantScenario(s, point.constraint, dir),
  };
}

async function runMutant(
  original: Scenario,
  spec: MutantSpec,
  variant: string,
  o: MutationRunOptions,
): Promise<MutantResult> {
  const point = spec.base;
  // Recorded in the mutant's report.json: `whatbreaks replay` applies the same mutant again.
  const mutant = spec.point ? statementMutantTag(spec.point) : schemaMutantTag(point);
  let rewritten = 0;
  const outDir = `${o.outDir}/${point.id.replace(/[^A-Za-z0-9@#._-]/g, '_').replace('#', '-')}`;
  let scenario = original;
  try {
    if (spec.scenario) scenario = spec.scenario(original, outDir);
  } catch (err) {
    // The schema files changed since discovery (the constraint is gone), or the mutant did not read back
    // as the original less one constraint (whatbreaks' bug): unknown for this mutant, the others still
    // run — never a run on a schema that is not what the mutant claims.
    const trials = { run: 0, passed: 0, failed: 0, unknown: 0, aborted: 0 };
    const reason = `the mutant could not be built: ${(err as Error).message}`;
    return { ...point, outcome: 'unknown', reason, trials, rewritten, runDir: outDir };
  }
  const { report, runDir } = await runScenario(scenario, {
    variant,
    trials: o.trials,
    outDir,
    signal: o.signal,
    onEvent: o.onEvent,
    mutant,
    // A schema mutant rewrites nothing, but its trials go through the proxy as the discovery run's did.
    sqlRewrite: spec.point
      ? await statementMutantRewrite(mutant, (n) => {
          rewritten += n;
        })
      : () => undefined,
  });
  const s = report.summary;
  const trials = {
    run: s.trials,
    passed: s.passed,
    failed: s.failed,
    unknown: s.unknown,
    aborted: s.aborted,
  };
  const base = { ...point, trials, rewritten, runDir };
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
    (rewritten === 0 && point.kind === 'statement'
      ? 'the mutated statement never ran during its trials: the mutant was not exercised'
      : undefined);
  if (unknownWhy || report.verdict !== 'pass')
    return { ...base, outcome: 'unknown', reason: unknownWhy ?? `verdict ${report.verdict}` };
  return {
    ...base,
    outcome: 'survived',
    reason: `all ${s.passed} trial(s) passed without ${point.clause}${point.kind === 'schema' ? ` (schema: ${point.file})` : ` (${rewritten} statement(s) rewritten)`}: ${SURVIVOR_MEANING}`,
  };
}
