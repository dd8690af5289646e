import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { restartReplicasForTrial } from './env/restart-per-trial.js';
import { type EnvironmentChoice, selectEnvironment } from './env/select.js';
import type {
  EnvironmentKind,
  EnvironmentProvider,
  Replica,
  SqlText,
  StartedEnvironment,
} from './env/types.js';
import { WhatbreaksError } from './errors.js';
import { createInvariant } from './invariants/registry.js';
import type { InvariantResult } from './invariants/types.js';
import { spreadMs } from './load/burst/sender.js';
import { trialBudget as interleaveTrialBudget } from './load/interleave.js';
import { statusCounts, summarizeLatency } from './load/latency.js';
import { createExecutor } from './load/registry.js';
import type { LoadResult } from './load/types.js';
import { type ReplicaMemory, RssSampler } from './observe/rss-sampler.js';
import { recordUpstreamArrivals, type UpstreamArrivals } from './observe/upstream-arrivals.js';
import type { SqlRewrite } from './pgwire/sql-rewrite.js';
import { writeReportFormats } from './report/formats.js';
import { type MutantTag, REPORT_SCHEMA_VERSION, type RunReport, type TrialReport } from './report/types.js';
import { writeReportJson } from './report/write.js';
import { type ProgressEvent, type TrialProgress, trialProgress } from './run-progress.js';
import { renderRequest } from './scenario/request-template.js';
import { generateRows } from './scenario/seed.js';
import type { Scenario } from './scenario/types.js';
import { resolveVariant } from './scenario/variant.js';
import { scheduleFaults } from './timeline/registry.js';
import { type FaultRecord, startTimeline } from './timeline/timeline.js';
import { judgeRun, judgeTrial, summarizeTrials } from './verdict.js';
import { VERSION } from './version.js';

/** What a run tells its listeners (progress bars, printers) while it goes. Results stay data. */
export type RunEvent =
  | { type: 'run-dir'; runDir: string }
  | { type: 'environment'; kind: EnvironmentKind; reason: string }
  | { type: 'log'; line: string }
  | {
      type: 'trial-start';
      trial: number;
      of: number;
      /** `of` is an upper bound, not a count: an interleave load's schedule budget (it may end sooner). */
      budget?: boolean;
    }
  | { type: 'trial-end'; report: TrialReport; of: number }
  | ProgressEvent;

export interface RunOptions {
  /** Variant of the target to run; default the scenario's default variant. */
  variant?: string;
  /** Trials to run; default the scenario's `trials`. */
  trials?: number;
  /** Folder for this run's report and logs; default `<reportsDir>/<scenario>-<variant>-<time>`. */
  outDir?: string;
  /** Parent folder of run folders when `outDir` is not given; default `reports` in the current folder. */
  reportsDir?: string;
  /** Aborting stops after the current step; the report keeps every finished trial. */
  signal?: AbortSignal;
  /**
   * Awaited before each trial starts (after the environment is up). `verify` uses it to make the
   * baseline and candidate runs take turns, trial by trial.
   */
  beforeTrial?: (trial: number) => Promise<void>;
  onEvent?: (event: RunEvent) => void;
  /**
   * Emit a `tick` event (`run-progress.ts`: the trial's phase, requests sent/answered, faults applied)
   * every `tickMs` ms while a trial runs. Default: no ticks, and no timer.
   */
  tickMs?: number;
  /** `local`, `docker`, or `auto` (docker when a container runtime answers and the scenario has `target.docker`). Default `local`. */
  env?: EnvironmentChoice;
  /** For `docker`: the PostgreSQL image and the target's Dockerfile build arguments. */
  docker?: { postgresImage?: string; buildArgs?: Readonly<Record<string, string>> };
  /**
   * Allow a target or database that is not on this machine (an external `target.url`/`database.url`).
   * Without it such a scenario ends with `REMOTE_NOT_ALLOWED` before anything is sent.
   */
  allowRemote?: boolean;
  /**
   * Replace (or only observe) the SQL of every Query and Parse the target sends: forces the PostgreSQL
   * protocol proxy on (`database.proxy: { protocol: postgres }`), local environment only. Used by
   * `whatbreaks mutate` (docs/mutants.md).
   */
  sqlRewrite?: SqlRewrite;
  /** The mutant this run is (with `sqlRewrite` or a mutated schema): recorded in report.json for replay. */
  mutant?: MutantTag;
}

export interface RunOutcome {
  report: RunReport;
  runDir: string;
  reportFile: string;
}

/**
 * Run a scenario: start the environment once, then per trial reset the database, drive the load and
 * check every invariant; write `report.json` after every trial (an interrupted run keeps what it
 * measured) and once more at the end.
 *
 * Environment and target failures do not throw: they end the run with `report.error` set and verdict
 * `unknown` (a trial that could not run is never a pass). Only bugs in whatbreaks throw.
 */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<RunOutcome> {
  const emit = options.onEvent ?? (() => {});
  const launch = resolveVariant(scenario, options.variant);
  // An interleave load runs one trial per schedule until its exploration is over (at most its budget).
  const trials =
    scenario.load.type === 'interleave'
      ? (options.trials ?? interleaveTrialBudget(scenario.load))
      : (options.trials ?? scenario.trials);
  const startedAt = new Date();
  const runDir = resolve(
    options.outDir ??
      join(
        options.reportsDir ?? 'reports',
        `${scenario.name}-${launch.variant}-${startedAt.toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`,
      ),
  );
  emit({ type: 'run-dir', runDir });
  const {
    provider,
    reason: envReason,
    warnings: envWarnings,
  }: { provider: EnvironmentProvider; reason: string; warnings?: string[] } = await selectEnvironment(
    scenario,
    options.env ?? 'local',
    { ...options.docker, allowRemote: options.allowRemote, defaulted: options.env === undefined },
  );
  emit({ type: 'environment', kind: provider.kind, reason: envReason });
  for (const line of envWarnings ?? []) emit({ type: 'log', line: `warning: ${line}` });
  const dependencies = Object.entries(scenario.dependencies).map(([name, d]) => ({ ...d, name }));
  const interleave = scenario.load.type === 'interleave';
  if (
    provider.kind !== 'local' &&
    (dependencies.length > 0 || scenario.database.proxy || interleave || options.sqlRewrite)
  ) {
    throw new WhatbreaksError(
      'ENV_UNAVAILABLE',
      `${scenario.file}: dependencies, database.proxy and interleave loads run only in the local environment for now`,
      'run it with --env local',
    );
  }

  const sql: SqlText[] = [
    ...[...scenario.database.schema, ...scenario.database.seed].map((f) => ({
      sql: readFileSync(f, 'utf8'),
      source: relative(process.cwd(), f) || f,
    })),
    ...(scenario.database.setup ? [{ sql: scenario.database.setup, source: 'database.setup' }] : []),
  ];
  const executor = createExecutor(scenario.load);
  const invariants = scenario.invariants.map(createInvariant);
  const burstSize = scenario.load.type === 'burst' ? scenario.load.requests : 50;
  const maxConnections = scenario.database.maxConnections ?? Math.max(100, 2 * burstSize + 20);

  const report: RunReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'whatbreaks', version: VERSION, node: process.version },
    scenario: { name: scenario.name, file: scenario.file, description: scenario.description },
    variant: launch.variant,
    environment: { kind: provider.kind, reason: envReason },
    ...(options.mutant ? { mutant: options.mutant } : {}),
    startedAt: startedAt.toISOString(),
    durationMs: 0,
    verdict: 'unknown',
    aborted: false,
    summary: summarizeTrials([]),
    trials: [],
  };
  const t0 = performance.now();
  const save = () => {
    finishSummary(report, performance.now() - t0);
    return writeReportJson(runDir, report);
  };

  let env: StartedEnvironment | undefined;
  try {
    emit({ type: 'phase', phase: 'environment' });
    env = await provider.start({
      target: launch,
      runDir,
      maxConnections,
      fsync: scenario.database.fsync,
      prepareDatabase: async (db) => {
        // Large tables are generated once per run, before anything else connects (`scenario/seed.ts`).
        const gen = scenario.database.generate;
        if (gen) {
          const seeded = await generateRows(
            db.url,
            gen,
            gen.schema.map((f) => readFileSync(f, 'utf8')),
            ({ table, doneRows, totalRows }) => emit({ type: 'seed', table, doneRows, totalRows }),
          );
          emit({
            type: 'log',
            line: `generated ${seeded.rows} rows in ${(seeded.durationMs / 1000).toFixed(1)} s (once per run, read-only)`,
          });
        }
        await db.reset(sql);
      },
      log: (line) => emit({ type: 'log', line }),
      replicas: scenario.target.replicas,
      startStaggerMs: scenario.target.startStaggerMs,
      loadBalancer: scenario.target.loadBalancer,
      dependencies,
      // Interleaving needs the PostgreSQL protocol proxy (the TCP proxy and its toxics stay behind it).
      databaseProxy:
        scenario.load.type === 'interleave' || options.sqlRewrite
          ? { protocol: 'postgres', ...(options.sqlRewrite ? { rewriteSql: options.sqlRewrite } : {}) }
          : scenario.database.proxy,
      // A deadlock between scheduled steps is resolved by PostgreSQL after deadlock_timeout.
      deadlockTimeoutMs: scenario.load.type === 'interleave' ? scenario.load.deadlockTimeoutMs : undefined,
      // Ctrl-C during a slow start (a target that takes long to get healthy) stops the start at once.
      signal: options.signal,
    });
    for (let trial = 1; trial <= trials && executor.more?.() !== false; trial++) {
      await options.beforeTrial?.(trial);
      if (options.signal?.aborted) {
        report.aborted = true;
        break;
      }
      emit({ type: 'trial-start', trial, of: trials, ...(interleave ? { budget: true } : {}) });
      const progress = trialProgress({ trial, of: trials, emit, tickMs: options.tickMs });
      const trialReport = await runTrial(
        trial,
        env,
        sql,
        executor,
        invariants,
        launch.health.path,
        scenario,
        options.signal,
        progress,
      ).finally(progress.stop);
      report.trials.push(trialReport);
      save();
      emit({ type: 'trial-end', report: trialReport, of: trials });
    }
    if (options.signal?.aborted) report.aborted = true;
    if (executor.exploration) report.interleave = executor.exploration();
  } catch (err) {
    if (!(err instanceof WhatbreaksError)) {
      report.error = { code: 'INTERNAL', message: (err as Error).stack ?? String(err) };
      save();
      throw err;
    }
    // An environment start cut short by the signal is an interruption, not an environment error.
    if (err.code === 'INTERRUPTED' && options.signal?.aborted) report.aborted = true;
    else report.error = { code: err.code, message: err.message, hint: err.hint };
  } finally {
    if (env) emit({ type: 'phase', phase: 'teardown' });
    await env?.stop();
  }
  const reportFile = save();
  for (const e of writeReportFormats(runDir, report).errors)
    emit({ type: 'log', line: `report ${e.format} not written: ${e.error}` });
  return { report, runDir, reportFile };
}

async function runTrial(
  trial: number,
  env: StartedEnvironment,
  sql: readonly SqlText[],
  executor: ReturnType<typeof createExecutor>,
  invariants: ReturnType<typeof createInvariant>[],
  healthPath: string,
  scenario: Scenario,
  signal: AbortSignal | undefined,
  progress: TrialProgress,
): Promise<TrialReport> {
  const startedAt = new Date();
  const t0 = performance.now();
  const clock = () => performance.now() - t0;
  const arrivals = recordUpstreamArrivals(env.dependencies, t0);
  progress.phase('reset');
  // Every trial starts with every replica up (a nemesis may have killed one in the last trial).
  await env.restoreReplicas();
  await env.database.reset(sql);
  // `target.restart: per-trial`: no in-memory state carries over from the last trial (restart-per-trial.ts).
  if (scenario.target.restart === 'per-trial' && trial > 1) await restartReplicasForTrial(env);
  progress.phase('load');
  const template = 'request' in scenario.load ? scenario.load.request : undefined;
  const runSignal = signal ?? new AbortController().signal;
  // The fault timeline runs beside the load: its `at` times count from load start — when `run` is
  // called, or, for an executor that warms up first, when it says the measured load starts.
  let timeline: ReturnType<typeof startTimeline> | undefined;
  const window = { startEpochMs: Date.now(), startMs: clock(), endEpochMs: 0, endMs: 0 };
  const measuredLoadStarts = () => {
    if (timeline) return;
    window.startEpochMs = Date.now();
    window.startMs = clock();
    timeline = startTimeline(scheduleFaults(scenario.faults), { env, clock, signal: runSignal });
    progress.faults = timeline.counts;
  };
  if (!executor.warmsUp) measuredLoadStarts();
  let load: LoadResult;
  let faults: FaultRecord[] = [];
  // RSS of every replica while the load runs; the enforced limit kills through the env (a kill on purpose).
  const limitMiB = scenario.target.memoryLimitMiB;
  const atStart = env.replicas;
  const sampler = RssSampler.start(atStart, {
    clock,
    limitMiB,
    kill: (id) => env.killReplica(id, 'SIGKILL'),
    // A nemesis killed it (it stays down) or restarted it (a new process holds its id): not its memory.
    stoppedOnPurpose: (id) =>
      env.wasKilled(id) || env.replicas.find((r) => r.id === id) !== atStart.find((r) => r.id === id),
  });
  let replicas: ReplicaMemory[] = [];
  let upstreams: UpstreamArrivals = {};
  // Behind the built-in balancer, a burst's arrival at the replicas is observable: when it forwards each.
  const forwards = scenario.load.type === 'burst' ? env.balancer?.recordForwards() : undefined;
  let forwardedAt: number[] = [];
  try {
    load = await executor.run({
      baseUrl: env.targetUrl,
      clock,
      signal: runSignal,
      healthPath,
      measuredLoadStarts,
      progress: progress.counters,
      pgwire: env.dependencies?.get('postgres')?.pgwire,
      databaseUrl: env.database.url,
      render: (i) => {
        if (!template) throw new Error(`load type ${scenario.load.type} has no request template`);
        return renderRequest(template, { i, n: i + 1, trial });
      },
    });
  } catch (err) {
    // A load that cannot run (a protocol the target does not speak, refused connections) leaves the
    // trial unjudged — `unknown`, with the reason — rather than ending the run.
    if (err instanceof WhatbreaksError) throw err;
    load = failedLoad(scenario.load.type, err, window.startMs, clock());
  } finally {
    window.endEpochMs = Date.now();
    window.endMs = clock();
    // Revert what is still applied even when the load threw.
    faults = timeline ? await timeline.stop() : [];
    replicas = await sampler.stop();
    upstreams = arrivals.stop();
    forwardedAt = forwards?.stop() ?? [];
  }
  if (forwards) load.arrivalSpreadMs = burstArrivalSpread(load, forwardedAt, t0);
  const maxSpreadMs = scenario.load.type === 'burst' ? scenario.load.maxSpreadMs : undefined;
  if (maxSpreadMs !== undefined && load.arrivalSpreadMs !== undefined && load.arrivalSpreadMs > maxSpreadMs) {
    const loose = `arrival spread at the replicas ${load.arrivalSpreadMs.toFixed(3)} ms (through the load balancer) is looser than maxSpreadMs ${maxSpreadMs} ms`;
    load.inconclusive = [load.inconclusive, loose].filter(Boolean).join('; ');
  }
  // Interrupted while the load ran: the trial is cut short on purpose and counts for nothing.
  const interrupted = runSignal.aborted ? 'interrupted while the trial ran (SIGINT/SIGTERM)' : undefined;
  const loadFailed = interrupted ? undefined : load.failed;
  const results: InvariantResult[] = [];
  progress.phase('check');
  // No invariant judges a trial whose load did not run as written (`verdict.ts`, rule 2).
  if (!interrupted && !loadFailed) {
    for (const inv of invariants) {
      results.push(await inv.check({ trial, db: env.database, load, faults, window, replicas, upstreams }));
    }
  }
  // A replica that died under load, not by a nemesis, is a finding: the trial fails with the cause. The next
  // trial starts with it restarted (`restoreReplicas`). A crash shows first as failed requests; its exit
  // event can trail them by a few ms.
  const crashed = interrupted ? [] : await crashedReplicas(env, load);
  if (crashed.length > 0 && !loadFailed) results.push(crashResult(crashed));
  // Measurements an invariant made for the report (the herd's buckets) live on the trial, not the result.
  const herd = results.find((r) => r.measurements?.herd)?.measurements?.herd;
  for (const r of results) delete r.measurements;
  const judged = judgeTrial({
    interrupted,
    loadFailed:
      loadFailed && crashed.length > 0 ? `${loadFailed}; ${crashResult(crashed).summary}` : loadFailed,
    weaker: [load.inconclusive, faultsNotAsWritten(faults)].filter((x): x is string => Boolean(x)),
    invariants: results,
  });
  return {
    trial,
    verdict: judged.verdict,
    startedAt: startedAt.toISOString(),
    durationMs: clock(),
    inconclusive: judged.reason,
    load: {
      kind: load.kind,
      sync: load.sync,
      requests: load.records.length,
      sendSpreadMs: load.sendSpreadMs,
      arrivalSpreadMs: load.arrivalSpreadMs,
      statusCounts: statusCounts(load.records),
      latency: load.aggregate?.latency ?? summarizeLatency(load.records),
      latencyCorrected: load.openModel?.latencyCorrected,
      openModel: load.openModel,
      aggregate: load.aggregate,
      ...(load.skippedTicks !== undefined ? { skippedTicks: load.skippedTicks } : {}),
      warnings: load.warnings,
      records: load.records,
      ...(load.interleave ? { interleave: load.interleave } : {}),
    },
    invariants: results,
    faults,
    ...(herd ? { herd } : {}),
    rss: replicas.map((r) => ({ ...r, oomKilled: r.exit?.signal === 'SIGKILL' && r.killedBy !== 'nemesis' })),
  };
}

/**
 * Spread (max − min, ms) of the moments the built-in balancer handed a burst's requests, whole, to the
 * replicas: the stamps (`performance.now()`) from the burst's first release on, so the senders' warm-up
 * requests do not count. Undefined with fewer than two.
 */
function burstArrivalSpread(
  load: LoadResult,
  forwardedAt: readonly number[],
  t0: number,
): number | undefined {
  if (load.records.length === 0) return undefined;
  let released = Number.POSITIVE_INFINITY;
  for (const r of load.records) released = Math.min(released, r.sentAtMs);
  const times = forwardedAt.map((t) => t - t0).filter((t) => t >= released);
  return times.length >= 2 ? spreadMs(times) : undefined;
}

function finishSummary(report: RunReport, durationMs: number): void {
  const verdicts = report.trials.map((t) => t.verdict);
  report.summary = summarizeTrials(verdicts);
  report.durationMs = Math.round(durationMs);
  report.verdict = judgeRun(verdicts, { error: Boolean(report.error), aborted: report.aborted });
}

/**
 * Why the trial's faults did not happen as the scenario says — one failed (its apply or revert threw) or
 * was skipped (the load ended before its `at`) — or undefined when every fault was applied. A trial that
 * passed without its nemesis proves nothing about the nemesis, so such a trial is `unknown`, not `pass`
 * (a violation it found still fails it).
 */
function faultsNotAsWritten(faults: readonly FaultRecord[]): string | undefined {
  const reasons = faults.flatMap((f) => {
    const name = `fault ${f.type}${f.target ? ` (${f.target})` : ''} at ${f.atMs} ms`;
    if (f.outcome === 'failed') return [`${name} failed: ${f.error ?? 'no reason given'}`];
    if (f.outcome === 'skipped') return [`${name} was not applied: the load ended first`];
    return [];
  });
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}

function failedLoad(kind: string, err: unknown, startedAtMs: number, nowMs: number): LoadResult {
  const e = err as { code?: string; message?: string; hint?: string };
  const reason = [e.code, e.message].filter(Boolean).join(': ') || String(err);
  return {
    kind,
    records: [],
    startedAtMs,
    durationMs: nowMs - startedAtMs,
    warnings: [],
    failed: `the load failed: ${reason}${e.hint ? ` (hint: ${e.hint})` : ''}`,
  };
}

/** Replicas that exited during the trial, not killed on purpose (by a nemesis or the memory limit). */
async function crashedReplicas(env: StartedEnvironment, load: LoadResult): Promise<Replica[]> {
  if (load.records.some((r) => r.error)) {
    for (let i = 0; i < 10 && !env.replicas.some((r) => r.exit); i++) await sleep(50);
  }
  return env.replicas.filter((r) => r.exit && !env.wasKilled(r.id));
}

/** The synthetic invariant "every replica survives the trial", violated by `crashed`. */
function crashResult(crashed: readonly Replica[]): InvariantResult {
  const how = (r: Replica) => (r.exit?.signal ? `signal ${r.exit.signal}` : `exit code ${r.exit?.code}`);
  return {
    name: 'target-survives',
    type: 'process',
    holds: false,
    summary: crashed.map((r) => `replica ${r.id} exited during the trial (${how(r)})`).join('; '),
    witnesses: crashed.map((r) => ({
      replica: r.id,
      exit: how(r),
      log: r.logFile,
      lastLines: r.lastLines(10).join('\n'),
    })),
    witnessCount: crashed.length,
  };
}
