import type { AggregateLoad } from './closed-model.js';
import type { OpenModelStats } from './constant-arrival-rate-stats.js';
import type { InterleaveTrialInfo } from './interleave.js';

/**
 * Shapes shared by every load executor (burst, open model, closed model, client populations).
 *
 * Times are milliseconds from `performance.now()` taken on the whatbreaks process, made relative to the
 * trial's start (`trialStartMs`) before they are stored, so records from one trial share one time axis
 * with fault windows and samplers.
 */

/** One HTTP request, fully rendered (templates already expanded). */
export interface PreparedRequest {
  /** 0-based position of the request in its burst or schedule. */
  index: number;
  method: string;
  /** Path and query, starting with `/`. */
  path: string;
  /** Header names in lower case. `host`, `content-length` and `connection` are set by the sender. */
  headers: Record<string, string>;
  /** Request body bytes, or undefined for a bodiless request. */
  body?: Buffer;
}

/** What happened to one request. Never dropped: a request that failed still has a record. */
export interface RequestRecord {
  index: number;
  /** Which connection (0-based) carried the request. */
  connection: number;
  /** When the request was released (its final bytes written), ms since trial start. */
  sentAtMs: number;
  /** Intended send time for schedule-driven executors (open model), ms since trial start. */
  intendedAtMs?: number;
  /** HTTP status, absent when the request failed without a response. */
  status?: number;
  /** Time from release to the complete response, ms. */
  latencyMs?: number;
  /** Error code or message when the request failed without a response (e.g. `ECONNRESET`). */
  error?: string;
  /** First bytes of the response body (at most 512), for witnesses. */
  body?: string;
  /** Size of the whole response body, bytes (executors that read the body through: open model). */
  bodyBytes?: number;
  /** Newline (LF) count of the whole response body (e.g. CSV rows + header), same executors. */
  bodyLines?: number;
}

/**
 * What an executor has done so far in a trial, for a progress display: requests sent and answered
 * (a response or an error), how many it plans (when known), and what it is doing (`stage`, e.g.
 * `opening 200 connections`). Measured load only: warm-up requests are not counted.
 */
export interface LoadCounters {
  sent: number;
  answered: number;
  planned?: number;
  stage?: string;
}

/** The outcome of one load phase of one trial. */
export interface LoadResult {
  /** Executor type, e.g. `burst`. */
  kind: string;
  /** Sync mode of a burst (`naive`, `barrier`, `last-byte`, `single-packet`). */
  sync?: string;
  records: RequestRecord[];
  /** Client-side spread between the first and the last release write of a burst, ms. */
  sendSpreadMs?: number;
  /**
   * Spread of arrival times at the server (max − min) when the server side is observable, ms: for a burst
   * behind the built-in load balancer (`replicas` > 1), when it handed each request, whole, to a replica.
   */
  arrivalSpreadMs?: number;
  /** When the phase started and how long it ran, ms since trial start / ms. */
  startedAtMs: number;
  durationMs: number;
  /** Warnings worth showing the user (e.g. the generator itself was saturated). */
  warnings: string[];
  /**
   * Set when the load ran weaker than the scenario asked (e.g. a burst looser than its `maxSpreadMs`): a
   * pass becomes `unknown`; a violation it found still fails the trial (`src/verdict.ts`).
   */
  inconclusive?: string;
  /**
   * Set when the load did not run as written (the executor failed or could not start): the trial is
   * `unknown` with this reason, and no invariant judges it (`src/verdict.ts`).
   */
  failed?: string;
  /** Open model (`constant-arrival-rate`): schedule adherence and corrected/uncorrected latency. */
  openModel?: OpenModelStats;
  /**
   * Client population (`client-population`): ticks at which a client sent nothing because its previous
   * request was still in flight (skipped, not made up: `client-population.ts`).
   */
  skippedTicks?: number;
  /** Closed model (`closed-model`): totals over every request, when `records` keeps only a sample. */
  aggregate?: AggregateLoad;
  /** `interleave`: the schedule the trial ran and its step table. */
  interleave?: InterleaveTrialInfo;
}
