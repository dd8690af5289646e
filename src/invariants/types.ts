import type { LoadResult } from '../load/types.js';
import type { ReplicaMemory } from '../observe/rss-sampler.js';
import type { UpstreamArrivals } from '../observe/upstream-arrivals.js';
import type { FaultRecord } from '../timeline/timeline.js';
import type { HerdReport } from './herd-analysis.js';

/**
 * An invariant is a property that must hold after (or during) a trial. It is checked against the
 * database, the responses and the processes, and names its witnesses: the rows, requests or moments
 * that show the violation.
 *
 * One file per invariant type; each exports a zod `config` schema for its scenario block (with a literal
 * `type`) and a `create(config)` returning an `Invariant`. `registry.ts` lists them.
 */
export interface Invariant {
  readonly name: string;
  readonly type: string;
  check(trial: TrialObservation): Promise<InvariantResult>;
}

/** What the scenario declares besides its invariants, for an invariant type's scenario-time `check`. */
export interface InvariantCheckContext {
  /** Per dependency: its proxy kind (`http`, `tcp`, `none`) and the request headers its HTTP proxy records. */
  dependencies: Readonly<Record<string, { proxy: string; recordHeaders: readonly string[] }>>;
}

/** Jepsen-style: `true` holds, `false` violated, `'unknown'` could not be decided (never counted as a pass). */
export type Holds = true | false | 'unknown';

export interface InvariantResult {
  name: string;
  type: string;
  holds: Holds;
  /** One line a person reads first, e.g. `truck 1 booked 1180 kg of 1000 kg`. */
  summary: string;
  /** What shows the violation (rows, requests, moments); empty when it holds. */
  witnesses: Record<string, unknown>[];
  /** Total witnesses found; `witnesses` may be cut to the first 100. */
  witnessCount: number;
  /**
   * Measurements the trial's report keeps beside the verdict (`herd`: arrivals per bucket, waves);
   * `run.ts` moves them into `TrialReport` and drops them from the result.
   */
  measurements?: { herd?: HerdReport };
}

/** Read-only database access for invariants. */
export interface QueryableDatabase {
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<R[]>;
}

/** What an invariant may look at once a trial's load is over. */
export interface TrialObservation {
  /** 1-based trial number. */
  trial: number;
  db: QueryableDatabase;
  load: LoadResult;
  /** Faults the timeline applied during the trial (`TrialReport.faults`); absent or empty when none. */
  faults?: readonly FaultRecord[];
  /**
   * When the load ran, wall-clock epoch ms (to compare with timestamps the target wrote, e.g. a ledger's
   * ticks) and ms since trial start (the axis of request records and fault windows).
   */
  window?: { startEpochMs: number; endEpochMs: number; startMs: number; endMs: number };
  /** RSS of each target replica during the trial (`observe/rss-sampler.ts`); absent when not sampled. */
  replicas?: readonly ReplicaMemory[];
  /**
   * Calls the target made to each dependency behind an HTTP fault proxy during the trial, ms since trial
   * start (`observe/upstream-arrivals.ts`); absent when the scenario has no such dependency.
   */
  upstreams?: UpstreamArrivals;
}

/** Combine verdicts the Jepsen way: any false → false; else any unknown → unknown; else true. */
export function combine(verdicts: Iterable<Holds>): Holds {
  let unknown = false;
  for (const v of verdicts) {
    if (v === false) return false;
    if (v === 'unknown') unknown = true;
  }
  return unknown ? 'unknown' : true;
}

export const MAX_WITNESSES_KEPT = 100;
