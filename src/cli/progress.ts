import { createLogUpdate } from 'log-update';
import pc from 'picocolors';
import type { RunEvent } from '../run.js';
import type { RunPhase, TickEvent } from '../run-progress.js';

/**
 * The CLI's output while a command runs: permanent lines (trial results to stdout, logs to stderr) and,
 * on a terminal, a live two-line status below them on stderr that says what the run is doing now —
 *
 * ```
 * trial 3/10 · load: 200 requests released, waiting for the responses · 2.3 s
 *   2 of 10 trials done: 2 failed · elapsed 14.1 s
 * ```
 *
 * — redrawn in place by `log-update` and cleared before every permanent line, so the scrollback holds
 * only results. Live only when stdout and stderr are terminals (stderr with a size), `CI` is unset and
 * `TERM` is not `dumb`:
 * in CI logs and pipes nothing extra is written, and the run is not even asked for ticks (`tickMs`).
 * The printer only subscribes to the run's events (`RunEvent`); it decides nothing.
 */
export interface Printer {
  /** Whether the live status is drawn. */
  readonly live: boolean;
  /** Tick interval to ask the run for (`RunOptions.tickMs`): undefined when not live. */
  readonly tickMs: number | undefined;
  /** A permanent line (or lines) on stdout. */
  out(text: string): void;
  /** A permanent line (or lines) on stderr. */
  err(text: string): void;
  /** Feed a run event; `side` names a `verify` side. */
  event(e: RunEvent, side?: string): void;
  /** Clear the live status for good. */
  stop(): void;
}

/** How often the live status is redrawn (elapsed times move), ms; the run ticks at the same pace. */
export const REDRAW_MS = 250;

/** The live status is drawn on a terminal, never in CI or when either output is redirected. */
export function progressWanted(
  stdout: { isTTY?: boolean } = process.stdout,
  stderr: { isTTY?: boolean; columns?: number; rows?: number } = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  // A terminal that reports no size (a bare pseudo-terminal) cannot be redrawn in place.
  const sized = (stderr.columns ?? 0) > 0 && (stderr.rows ?? 0) > 0;
  return Boolean(stdout.isTTY && stderr.isTTY) && sized && !env.CI && env.TERM !== 'dumb';
}

interface SideState {
  trial?: number;
  of?: number;
  /** `of` is a budget (interleave schedules), not the number of trials that will run. */
  budget?: boolean;
  phase: RunPhase;
  phaseSinceMs: number;
  tick?: TickEvent;
  seed?: { table: string; doneRows: number; totalRows: number };
  done: number;
  failed: number;
  unknown: number;
}

const PHASE_TEXT: Record<RunPhase, string> = {
  environment: 'starting the environment (PostgreSQL, target)',
  reset: 'resetting the database',
  load: 'load',
  check: 'checking the invariants',
  teardown: 'tearing down',
};

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** What the load has done so far: `sent 340, answered 300 of 1000`, or the executor's own stage. */
export function loadText(t: TickEvent | undefined): string {
  if (!t) return '';
  const l = t.load;
  if (l.stage) return l.stage;
  const of = l.planned !== undefined ? ` of ${l.planned}` : '';
  return `sent ${l.sent}${of}, answered ${l.answered}`;
}

/** The status of one side: the trial's line and the run's line. */
export function statusLines(s: SideState, nowMs: number, startedAtMs: number, side?: string): string[] {
  const who = side ? `${side} ` : '';
  let first: string;
  if (s.trial === undefined) {
    const what = s.seed
      ? `generating ${s.seed.table}: ${Math.floor((100 * s.seed.doneRows) / Math.max(1, s.seed.totalRows))} % (${s.seed.doneRows.toLocaleString('en')} of ${s.seed.totalRows.toLocaleString('en')} rows)`
      : PHASE_TEXT[s.phase];
    first = `${who}${what} · ${secs(nowMs - s.phaseSinceMs)}`;
  } else {
    const t = s.tick?.trial === s.trial ? s.tick : undefined;
    const parts = [`${who}trial ${s.trial}${s.budget ? ` (budget ${s.of} schedules)` : `/${s.of}`}`];
    if (s.phase === 'load') {
      parts.push(`load: ${loadText(t) || 'starting'}`);
      if (t && t.faults.planned > 0)
        parts.push(
          `faults ${t.faults.applied}/${t.faults.planned} applied${t.faults.failed ? `, ${t.faults.failed} failed` : ''}`,
        );
    } else parts.push(PHASE_TEXT[s.phase]);
    parts.push(secs(nowMs - s.phaseSinceMs));
    first = parts.join(' · ');
  }
  const counts = [s.failed ? `${s.failed} failed` : '', s.unknown ? `${s.unknown} unknown` : '']
    .filter(Boolean)
    .join(', ');
  const done = s.budget
    ? `${s.done} schedule${s.done === 1 ? '' : 's'} done`
    : `${s.done} of ${s.of} trials done`;
  const second = `  ${s.of !== undefined ? `${done}${counts ? `: ${counts}` : ''} · ` : ''}elapsed ${secs(nowMs - startedAtMs)}`;
  return [first, second];
}

export function createPrinter(
  live: boolean = progressWanted(),
  streams: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream } = {
    stdout: process.stdout,
    stderr: process.stderr,
  },
): Printer {
  const { stdout, stderr } = streams;
  if (!live) {
    return {
      live: false,
      tickMs: undefined,
      out: (text) => stdout.write(`${text}\n`),
      err: (text) => stderr.write(`${text}\n`),
      event: () => {},
      stop: () => {},
    };
  }
  const startedAtMs = performance.now();
  const update = createLogUpdate(stderr, { showCursor: true });
  const sides = new Map<string, SideState>();
  let current = '';
  let stopped = false;
  const state = (side: string): SideState => {
    let s = sides.get(side);
    if (!s) {
      s = { phase: 'environment', phaseSinceMs: performance.now(), done: 0, failed: 0, unknown: 0 };
      sides.set(side, s);
    }
    return s;
  };
  const draw = () => {
    if (stopped) return;
    const s = sides.get(current);
    if (!s) return;
    const width = Math.max(20, (stderr.columns ?? 80) - 1);
    const lines = statusLines(s, performance.now(), startedAtMs, current || undefined).map((l) =>
      l.length > width ? `${l.slice(0, width - 1)}…` : l,
    );
    update(pc.dim(lines.join('\n')));
  };
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  const permanent = (stream: NodeJS.WriteStream, text: string) => {
    if (!stopped) update.clear();
    stream.write(`${text}\n`);
    draw();
  };
  return {
    live: true,
    tickMs: REDRAW_MS,
    out: (text) => permanent(stdout, text),
    err: (text) => permanent(stderr, text),
    event(e, side = '') {
      const s = state(side);
      current = side;
      const now = performance.now();
      if (e.type === 'phase') {
        if (e.phase !== s.phase || e.trial !== s.trial) s.phaseSinceMs = now;
        s.phase = e.phase;
        if (e.trial !== undefined) {
          s.trial = e.trial;
          s.of = e.of;
        }
      } else if (e.type === 'tick') s.tick = e;
      else if (e.type === 'seed') s.seed = e;
      else if (e.type === 'trial-start') {
        s.of = e.of;
        s.budget = e.budget;
        s.seed = undefined;
      } else if (e.type === 'trial-end') {
        s.done++;
        if (e.report.verdict === 'fail') s.failed++;
        if (e.report.verdict === 'unknown') s.unknown++;
      } else return;
      draw();
    },
    stop() {
      if (stopped) return;
      clearInterval(timer);
      update.clear();
      stopped = true;
    },
  };
}
