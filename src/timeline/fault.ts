import { z } from 'zod';
import type { StartedEnvironment } from '../env/types.js';
import { durationMs } from './duration.js';

/**
 * A fault is something the timeline applies to the running system while the load runs, and reverts on
 * time (Jepsen's nemesis; Toxiproxy's toxics are faults on a link):
 *
 * ```
 *            at                      at + for
 *   load ────┼───────────────────────┼────────────► time (ms since load start)
 *            apply(ctx) ─► revert?   revert()
 * ```
 *
 * One file per fault type, a zod config built with `faultConfig(type, shape)` (which adds the shared
 * `at` and `for` fields), and one line in `registry.ts`. Cross-cutting rules — scheduling, reverting at
 * the end of the load, recording every application, never letting a failed fault crash the run — live
 * once in `timeline.ts`, not in each fault.
 */
export interface Fault {
  readonly type: string;
  /** What the fault acts on, for the report: `replica 1`, `postgres`, `proxy pg`. */
  readonly target?: string;
  /**
   * Its effect outlives `apply` and nothing reverts it (a replica killed without restart): the record's
   * window stays open until the end of the trial. Otherwise a fault without a revert is instantaneous.
   */
  readonly persistent?: boolean;
  /** How long after `at` to revert, ms; default the config's `for`. */
  readonly forMs?: number;
  /** Apply the fault; resolve with how to undo it, if it can be undone. Throwing records a failed fault. */
  apply(ctx: FaultContext): Promise<Revert | undefined>;
}

/** Undo a fault (restart the replica, remove the toxic). */
export type Revert = () => Promise<void>;

/** What the environment offers faults; `dependencies` holds the fault proxies (`src/env/dependencies.ts`). */
export type FaultEnvironment = Pick<
  StartedEnvironment,
  'replicas' | 'killReplica' | 'restartReplica' | 'database' | 'dependencies'
>;

export interface FaultContext {
  env: FaultEnvironment;
  /** ms since the trial started (the axis of request records and fault windows). */
  clock: () => number;
  /** Aborted when the run is interrupted. */
  signal: AbortSignal;
  /** Add a line to this fault's record (`SIGKILL pid 4121`, `terminated 12 backends`). */
  note: (detail: string) => void;
  /**
   * For a fault that waits before it acts (`kill-replica` choosing its replica by query): it takes
   * effect now, on `target`. The record's `startMs` becomes now and its `target` this one.
   */
  startsNow: (target?: string) => void;
}

/** The fields every fault has, in the scenario's `faults:` list. */
export const faultBase = {
  at: durationMs.meta({
    description: 'When to apply, relative to the start of the load: `5s`, `500ms` or a number of ms.',
  }),
  for: durationMs.optional().meta({
    description:
      'Revert this long after `at` (a fault without `for` is reverted when the load ends, if it can be).',
  }),
};

/** A fault's scenario block: `{ type, at, for?, ...shape }`, strict (unknown keys are errors). */
export function faultConfig<T extends string, S extends z.ZodRawShape>(type: T, shape: S) {
  return z.strictObject({ type: z.literal(type), ...faultBase, ...shape });
}

/** What a scenario validator may know about the run when checking a fault block. */
export interface FaultCheckContext {
  /** Replicas of the target. */
  replicas: number;
  /** Dependencies by name and the proxy in front of each (`postgres`: the database's, if proxied). */
  dependencies?: Readonly<Record<string, 'http' | 'tcp' | 'none'>>;
}

/** One entry of the fault registry. */
export interface FaultType {
  config: z.ZodType;
  create: (cfg: never) => Fault;
  /**
   * What the fault holds while active (`replica:1`; `replica:*` for one chosen at run time, which
   * overlaps every `replica:<n>`); two faults holding the same resource at overlapping times are
   * rejected when the scenario is loaded.
   */
  resources?: (cfg: never) => string[];
  /**
   * How long the fault holds its resources, ms, for the overlap check; `Infinity` until the end of the
   * trial. Default: the config's `for`, else `Infinity`.
   */
  windowMs?: (cfg: never) => number;
  /** Extra checks needing the scenario (e.g. the replica index exists); messages, empty if fine. */
  check?: (cfg: never, ctx: FaultCheckContext) => string[];
}
