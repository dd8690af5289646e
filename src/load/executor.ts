import type { ExplorationSummary } from '../interleave/explorer.js';
import type { StartedPgProxy } from '../pgwire/proxy.js';
import type { LoadCounters, LoadResult, PreparedRequest } from './types.js';

/**
 * A load executor drives requests at the target for one trial. One file per executor, named for the
 * model it implements (k6 `lib/executor/`): `burst.ts` (N requests released together), open model
 * (constant arrival rate), closed model (autocannon), client populations. `registry.ts` maps the
 * scenario's `load.type` to the executor.
 *
 * Configuration and behaviour are apart: each executor exports a zod schema for its scenario block
 * (`config`) and a `create(config)` that returns something with `run(ctx)`.
 */
export interface LoadExecutor {
  run(ctx: LoadContext): Promise<LoadResult>;
  /**
   * True when `run` warms up before the measured load: it then calls `ctx.measuredLoadStarts()` when
   * the measured load begins, and the fault timeline (whose `at` times count from load start) and the
   * trial's window start there instead of when `run` is called.
   */
  warmsUp?: boolean;
  /**
   * For executors that decide how many trials to run (`interleave`: until its exploration is over):
   * false when there is no further trial to run. Asked before each trial; absent = the scenario's `trials`.
   */
  more?(): boolean;
  /** `interleave`: how the schedules were explored so far (for the run report). */
  exploration?(): ExplorationSummary;
}

export interface LoadContext {
  /** Where the load goes: the target (or the load balancer in front of its replicas). */
  baseUrl: URL;
  /** Milliseconds since the trial started. */
  clock: () => number;
  /** Aborted when the run is interrupted; executors stop sending and return what they have. */
  signal: AbortSignal;
  /** Health path of the target, usable to warm connections. */
  healthPath: string;
  /** Renders request number `i` of this trial from the scenario's request template. */
  render: (i: number) => PreparedRequest;
  /**
   * Executors with `warmsUp` call it right before the first measured send (idempotent). Absent when an
   * executor is driven outside a run (benchmarks, tests).
   */
  measuredLoadStarts?: () => void;
  /**
   * Counters for a progress display, or absent (no display: CI, pipes, benchmarks, tests). An executor
   * adds to them as it goes — plain number increments, never on the hot path of a burst's release (a
   * burst counts after it) — and the run reads them on a timer (`run-progress.ts`). No verdict reads them.
   */
  progress?: LoadCounters;
  /** The PostgreSQL protocol proxy between the target and the database, when the run has one. */
  pgwire?: StartedPgProxy;
  /** Connection string reaching PostgreSQL directly (not through any proxy), when the run has one. */
  databaseUrl?: string;
}
