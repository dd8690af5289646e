import type { ExplorationSummary } from '../interleave/explorer.js';
import type { HerdReport } from '../invariants/herd-analysis.js';
import type { Holds, InvariantResult } from '../invariants/types.js';
import type { AggregateLoad } from '../load/closed-model.js';
import type { OpenModelStats } from '../load/constant-arrival-rate-stats.js';
import type { InterleaveTrialInfo } from '../load/interleave.js';
import type { LatencySummary } from '../load/latency.js';
import type { RequestRecord } from '../load/types.js';
import type { ReplicaMemory } from '../observe/rss-sampler.js';
import type { FaultRecord } from '../timeline/timeline.js';

/**
 * `report.json`: everything a run measured, as plain data. Every report format (terminal, Markdown,
 * HTML, JUnit) renders from this. Versioned: `schemaVersion` changes when a field changes meaning or
 * disappears; fields may be added within a version.
 */
export const REPORT_SCHEMA_VERSION = 1;

/** A run's verdict, and a judged trial's. */
export type Verdict = 'pass' | 'fail' | 'unknown';

/**
 * A trial's verdict: a `Verdict`, or `aborted` when the run was interrupted while the trial ran (counted
 * neither passed nor failed; `src/verdict.ts` holds the rules).
 */
export type TrialVerdict = Verdict | 'aborted';

export function verdictOf(h: Holds): Verdict {
  return h === true ? 'pass' : h === false ? 'fail' : 'unknown';
}

export interface RunReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  tool: { name: 'whatbreaks'; version: string; node: string };
  scenario: { name: string; file: string; description?: string };
  variant: string;
  environment: { kind: 'local' | 'docker' | 'external'; reason: string };
  /** ISO 8601. */
  startedAt: string;
  durationMs: number;
  verdict: Verdict;
  /** True when the run was interrupted (Ctrl-C, SIGTERM) and holds only the trials that finished. */
  aborted: boolean;
  /** Set when the run could not start or broke off (environment error, target failure). */
  error?: { code: string; message: string; hint?: string };
  summary: {
    trials: number;
    passed: number;
    failed: number;
    unknown: number;
    /** Trials interrupted while they ran: recorded, counted neither passed nor failed. */
    aborted: number;
    /** Trials in which an invariant was violated / trials run (aborted ones not counted). */
    reproductionRate: number;
  };
  trials: TrialReport[];
  /** `interleave` loads: how the schedules were explored (exhaustive within the bound, sampled, pinned). */
  interleave?: ExplorationSummary;
  /** Set when this run is a mutant of the candidate (`whatbreaks mutate`): `replay` applies it again. */
  mutant?: MutantTag;
}

/**
 * The protection a mutant run removed from the candidate (docs/mutants.md). A statement mutant names the
 * statements the proxy rewrites by their pg_query fingerprint and the site of the operator in them; a
 * schema mutant names the constraint dropped from the scenario's schema files.
 */
export interface MutantTag {
  /** `drop-row-lock@c00d0671ab775e1f`, `drop-constraint@jobs_status_check`. */
  id: string;
  /** The same with the statement or constraint for people. */
  label: string;
  operator: string;
  /** The protection removed, as SQL (`FOR UPDATE`). */
  clause: string;
  /** Statement mutants: pg_query fingerprint of the statements rewritten. */
  fingerprint?: string;
  /** Statement mutants: 0-based site of the operator in the statement. */
  site?: number;
  /** Schema mutants: the constraint dropped. */
  constraint?: string;
}

export interface TrialReport {
  /** 1-based. */
  trial: number;
  verdict: TrialVerdict;
  startedAt: string;
  durationMs: number;
  /**
   * Why the trial is `unknown` or `aborted`: the load failed (with its hint), the run was interrupted,
   * the burst was looser than asked, a fault did not fire, an invariant could not decide.
   */
  inconclusive?: string;
  error?: string;
  load: {
    kind: string;
    sync?: string;
    requests: number;
    sendSpreadMs?: number;
    arrivalSpreadMs?: number;
    statusCounts: Record<string, number>;
    /** From the actual send to the complete response (uncorrected for coordinated omission). */
    latency: LatencySummary;
    /** Open model only: from the intended send time to the complete response (corrected), ms. */
    latencyCorrected?: LatencySummary;
    /** Open model only: schedule adherence (achieved rate, late/dropped sends, send lag). */
    openModel?: OpenModelStats;
    /** Client population only: ticks skipped because the client's previous request was still in flight. */
    skippedTicks?: number;
    /** Closed model only: totals over every request (`records` then holds a sample). */
    aggregate?: AggregateLoad;
    warnings: string[];
    records: RequestRecord[];
    /** `interleave` only: the schedule the trial ran and its steps. */
    interleave?: InterleaveTrialInfo;
  };
  /**
   * RSS of each replica's process tree during the trial, sampled every 50 ms (Linux `/proc`); absent
   * when not sampled.
   */
  rss?: TrialRss[];
  invariants: InvariantResult[];
  /**
   * The fault timeline of the trial: one entry per fault in the scenario's `faults:` (applied, failed or
   * skipped), with its window in ms since trial start (`startMs`, `endMs`; no `endMs` = lasted to the
   * end of the trial). Written by every run since faults exist; absent in older reports.
   */
  faults?: FaultRecord[];
  /**
   * Upstream arrivals per bucket around an outage, their peak/mean, waves and recovery time, from the
   * `herd` invariant (`invariants/herd-analysis.ts`); `buckets` are `{ tMs, count }` (ms since trial start).
   * Renderers also accept bare counts per `bucketMs` from ms 0 (`HerdCounts`).
   */
  herd?: HerdReport | HerdCounts;
}

/** The least a herd chart needs: arrivals per bucket of `bucketMs` ms, the first bucket at ms 0. */
export interface HerdCounts {
  bucketMs: number;
  buckets: number[];
}

/**
 * One replica's memory in one trial: `peakMiB` (MiB), `peakAtMs` (ms since trial start), `timeline`
 * (`[tMs, MiB][]`), `exit` if it exited, and `oomKilled`: killed by SIGKILL during the trial (the
 * kernel's OOM killer, or `target.memoryLimitMiB` when `killedBy` is `limit`), not by a nemesis.
 */
export interface TrialRss extends ReplicaMemory {
  oomKilled: boolean;
}
