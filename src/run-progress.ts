import type { LoadCounters } from './load/types.js';

/**
 * The progress events of a run (autocannon's model: the run emits `start`/`tick`/`done`-like typed events,
 * a display subscribes). `phase` marks each step as it starts; `tick` carries the counts of the trial in
 * progress every `tickMs` while a trial runs, and only when the caller asked for ticks (`RunOptions.tickMs`:
 * the CLI asks on a terminal, never in CI or a pipe), so a run without a display runs no timer at all.
 */

/** What a run is doing: starting its environment, or, per trial, resetting, loading, checking. */
export type RunPhase = 'environment' | 'reset' | 'load' | 'check' | 'teardown';

export interface PhaseEvent {
  type: 'phase';
  phase: RunPhase;
  /** The trial (1-based) and the trials asked for; absent for `environment` and `teardown`. */
  trial?: number;
  of?: number;
}

export interface TickEvent {
  type: 'tick';
  trial: number;
  of: number;
  phase: RunPhase;
  /** Since the trial started, ms. */
  trialMs: number;
  /** A copy of the executor's counters (`LoadContext.progress`). */
  load: LoadCounters;
  /** Faults of the trial's timeline: planned, applied so far, failed so far. */
  faults: { planned: number; applied: number; failed: number };
}

/** Rows generated for `database.generate`, once per run (`scenario/seed.ts`). */
export interface SeedEvent {
  type: 'seed';
  table: string;
  doneRows: number;
  totalRows: number;
}

export type ProgressEvent = PhaseEvent | TickEvent | SeedEvent;

/**
 * One trial's progress, as `run.ts` drives it: `phase(p)` emits a `phase` event; `counters` go to the
 * executor (`LoadContext.progress`; absent when no ticks were asked for, so executors count nothing);
 * `faults` is set to the timeline's counts once it starts; `stop()` ends the ticks.
 */
export interface TrialProgress {
  phase(p: RunPhase): void;
  counters?: LoadCounters;
  faults?: () => TickEvent['faults'];
  stop(): void;
}

/**
 * Progress of trial `trial` of `of`: `phase` events always; a `tick` every `tickMs` ms while it runs,
 * only when `tickMs` is given (the timer is unref'd and stopped by `stop()`).
 */
export function trialProgress(o: {
  trial: number;
  of: number;
  emit: (e: PhaseEvent | TickEvent) => void;
  tickMs?: number;
}): TrialProgress {
  const t0 = performance.now();
  let current: RunPhase = 'reset';
  const p: TrialProgress = {
    phase(next) {
      current = next;
      o.emit({ type: 'phase', phase: next, trial: o.trial, of: o.of });
    },
    counters: o.tickMs === undefined ? undefined : { sent: 0, answered: 0 },
    stop() {},
  };
  if (o.tickMs === undefined) return p;
  const timer = setInterval(
    () =>
      o.emit({
        type: 'tick',
        trial: o.trial,
        of: o.of,
        phase: current,
        trialMs: performance.now() - t0,
        load: { ...(p.counters ?? { sent: 0, answered: 0 }) },
        faults: p.faults?.() ?? { planned: 0, applied: 0, failed: 0 },
      }),
    o.tickMs,
  );
  timer.unref();
  p.stop = () => clearInterval(timer);
  return p;
}
