/**
 * A schedule: the request chosen at each choice point of one interleaved trial, in order. A choice point
 * is a moment when every request is quiet (a held step, a blocked step, its HTTP response, or stalled in
 * the application) and at least one has a held step; the choice is the request whose held step goes to
 * PostgreSQL next. Forced choices (one request enabled) are part of the schedule too, so a replay can
 * check that each one happens as written.
 *
 * Written as request indices joined by dots: `0.0.1.1.0.1` (request 0's step, request 0's next step,
 * request 1's …). That text is the schedule's id: stable, readable, and enough to replay it.
 */
import { WhatbreaksError } from '../errors.js';

export type Schedule = readonly number[];

/** `[0, 1, 1]` → `0.1.1`; the empty schedule (no step ran) is `-`. */
export function scheduleId(choices: Schedule): string {
  return choices.length === 0 ? '-' : choices.join('.');
}

/**
 * `0.1.1` → `[0, 1, 1]`.
 * @throws WhatbreaksError `USAGE` when the text is not request indices (0–99) joined by dots.
 */
export function parseSchedule(id: string): number[] {
  const text = id.trim();
  if (text === '-') return [];
  if (!/^\d{1,2}(\.\d{1,2})*$/.test(text)) {
    throw new WhatbreaksError(
      'USAGE',
      `"${id}" is not a schedule`,
      'a schedule is request indices joined by dots, e.g. 0.0.1.1 (see the report)',
    );
  }
  return text.split('.').map(Number);
}

/** One choice point as the scheduler saw it. */
export interface ChoicePoint {
  /** Requests with a held step, ascending. */
  enabled: readonly number[];
  chosen: number;
}

/**
 * Preemptions in a sequence of choice points (CHESS, Musuvathi et al. OSDI 2008): choosing another
 * request while the one chosen last is still enabled.
 */
export function preemptions(points: readonly ChoicePoint[]): number {
  let n = 0;
  for (let k = 1; k < points.length; k++) {
    const last = points[k - 1]!.chosen;
    const p = points[k]!;
    if (p.chosen !== last && p.enabled.includes(last)) n++;
  }
  return n;
}
