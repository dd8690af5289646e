import { setTimeout as sleep } from 'node:timers/promises';
import type { Fault, FaultEnvironment, Revert } from './fault.js';

/**
 * The fault timeline of one trial: each fault is applied `at` ms after the load starts and reverted
 * `for` ms later (or when the load ends), while the load runs beside it. Every application is recorded
 * — also the ones that failed, were skipped because the load ended first, or could not be reverted: a
 * fault never crashes the run, it becomes a line in the report.
 *
 * Faults run independently: a slow apply (a restart waiting for health) does not delay the next fault.
 */

/** One fault's window in a trial, as `report.json` keeps it (`TrialReport.faults`). */
export interface FaultRecord {
  type: string;
  /** What it acted on: `replica 1`, `postgres (all replicas)`. */
  target?: string;
  /** When the scenario asked for it, ms since load start. */
  atMs: number;
  /**
   * When it was applied, ms since trial start (the axis of request records). For a fault `skipped`
   * because the load ended first: when it was planned, with `endMs` equal to it (a zero-width window).
   */
  startMs: number;
  /** When it ended (reverted, or an instantaneous fault finished), ms since trial start; absent while it lasts to the end of the trial. */
  endMs?: number;
  /** What happened, e.g. `SIGKILL pid 4121; restarted as pid 4188, healthy at 7012 ms`. */
  detail: string;
  /** `applied`, `failed` (apply or revert threw: see `error`) or `skipped` (the load ended first). */
  outcome: 'applied' | 'failed' | 'skipped';
  error?: string;
}

export interface ScheduledFault {
  /** ms since load start. */
  atMs: number;
  /** Revert after this long, ms; undefined: at the end of the load. */
  forMs?: number;
  fault: Fault;
}

export interface TimelineContext {
  env: FaultEnvironment;
  /** ms since trial start. */
  clock: () => number;
  signal: AbortSignal;
  log?: (line: string) => void;
}

export interface RunningTimeline {
  /**
   * The load has ended: skip what was not applied yet, wait for applies in progress, revert what is
   * still active, and return every record (sorted by planned time).
   */
  stop(): Promise<FaultRecord[]>;
  /** How many faults were applied (and are or were in effect) and how many failed so far, for a progress display. */
  counts(): { planned: number; applied: number; failed: number };
}

function message(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}

/** Start the timeline now (= load start). */
export function startTimeline(faults: readonly ScheduledFault[], ctx: TimelineContext): RunningTimeline {
  const stopController = new AbortController();
  const stopSignal = AbortSignal.any([stopController.signal, ctx.signal]);
  const records: FaultRecord[] = [];

  const runOne = async (s: ScheduledFault): Promise<Revert | undefined> => {
    const rec: FaultRecord = {
      type: s.fault.type,
      target: s.fault.target,
      atMs: s.atMs,
      startMs: loadStartMs + s.atMs,
      detail: '',
      outcome: 'skipped',
    };
    records.push(rec);
    const notes: string[] = [];
    const note = (d: string) => {
      notes.push(d);
      rec.detail = notes.join('; ');
    };
    try {
      await sleep(s.atMs, undefined, { signal: stopSignal });
    } catch {
      note('not applied: the load ended first');
      rec.endMs = rec.startMs;
      return undefined;
    }
    rec.startMs = ctx.clock();
    let revert: Revert | undefined;
    /** Set when the fault waited before taking effect: its `for` counts from then, not from `at`. */
    let effectiveStartMs: number | undefined;
    try {
      const startsNow = (target?: string) => {
        rec.startMs = ctx.clock();
        effectiveStartMs = rec.startMs;
        if (target !== undefined) rec.target = target;
      };
      revert = await s.fault.apply({ env: ctx.env, clock: ctx.clock, signal: ctx.signal, note, startsNow });
      rec.outcome = 'applied';
    } catch (err) {
      rec.outcome = 'failed';
      rec.error = message(err);
      rec.endMs = ctx.clock();
      ctx.log?.(`fault ${s.fault.type} (${s.fault.target ?? ''}) failed: ${rec.error}`);
      return undefined;
    }
    const finish = async () => {
      if (!revert) return;
      const r = revert;
      revert = undefined;
      try {
        await r();
      } catch (err) {
        rec.outcome = 'failed';
        rec.error = `revert failed: ${message(err)}`;
      }
      rec.endMs = ctx.clock();
    };
    if (!revert) {
      if (!s.fault.persistent) rec.endMs = ctx.clock();
      return undefined;
    }
    const forMs = s.fault.forMs ?? s.forMs;
    if (forMs !== undefined) {
      const remaining = (effectiveStartMs ?? loadStartMs + s.atMs) + forMs - ctx.clock();
      try {
        await sleep(Math.max(0, remaining), undefined, { signal: stopSignal });
      } catch {
        note('reverted when the load ended');
      }
    } else {
      await new Promise<void>((resolve) => {
        if (stopSignal.aborted) resolve();
        else stopSignal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    await finish();
    return undefined;
  };

  const loadStartMs = ctx.clock();
  const running = faults.map((s) => runOne(s));
  return {
    counts: () => ({
      planned: faults.length,
      applied: records.filter((r) => r.outcome === 'applied').length,
      failed: records.filter((r) => r.outcome === 'failed').length,
    }),
    async stop() {
      stopController.abort();
      await Promise.all(running);
      return [...records].sort((a, b) => a.atMs - b.atMs);
    },
  };
}
