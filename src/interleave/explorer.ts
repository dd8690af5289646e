/**
 * Which schedules to run, one trial each: a stateless depth-first search over choice points with a
 * preemption bound (CHESS, Musuvathi et al. OSDI 2008), then PCT samples (Burckhardt et al. ASPLOS
 * 2010), or one pinned schedule.
 *
 * Stateless: every schedule re-runs from a reset database; a trial reports the choice points it met
 * (`ChoicePoint`: who was enabled, who was chosen), and the search extends the deepest point that has an
 * untried alternative. Beyond the prefix it forces, a trial follows the non-preemptive default: the
 * request chosen last while it stays enabled, else the lowest enabled index.
 *
 * Pruning: (1) the preemption bound — an alternative that would preempt the request chosen last counts
 * one; a prefix may hold at most `preemptions`. (2) Symmetry — requests rendered from one template
 * (`count`) that have not had a step released yet are interchangeable, so only the lowest index among
 * them is tried. This assumes the template's `{{n}}`/`{{i}}` do not change what the application does.
 * No partial-order reduction: steps on disjoint rows are not recognised as commuting.
 */
import { mulberry32, type Random, randomInt } from '../faults/random.js';
import { type ChoicePoint, preemptions, type Schedule } from './schedule.js';

/** Picks the request at choice point `k` (0-based), or says why the schedule cannot go on. */
export type Chooser = (
  k: number,
  enabled: readonly number[],
  history: readonly ChoicePoint[],
) => number | string;

export type ScheduleSource = 'dfs' | 'pct' | 'pinned';

export interface PlannedSchedule {
  source: ScheduleSource;
  choose: Chooser;
}

export interface ExplorerOptions {
  /** Template group of each request (same number = rendered from one template: symmetric). */
  groups: readonly number[];
  /** Preemption bound for the search. */
  preemptions: number;
  /** Schedules the search may run (PCT samples not counted). */
  maxSchedules: number;
  /** PCT samples after the search. */
  samples: number;
  /** PCT depth d (d − 1 priority change points). */
  depth: number;
  seed: number;
  /** Run exactly this schedule, nothing else (as many trials as the run allows). */
  pinned?: Schedule;
}

export interface ExplorationSummary {
  /** The search visited every schedule within the bound (after symmetry pruning). */
  exhaustive: boolean;
  searched: number;
  sampled: number;
  pinned: boolean;
  preemptionBound: number;
}

/** The non-preemptive default: keep running the request chosen last, else the lowest enabled. */
function defaultChoice(enabled: readonly number[], history: readonly ChoicePoint[]): number {
  const last = history.at(-1)?.chosen;
  return last !== undefined && enabled.includes(last) ? last : enabled[0]!;
}

export class Explorer {
  readonly #o: ExplorerOptions;
  #stack: { enabled: readonly number[]; chosen: number; untried: number[] }[] = [];
  #searchDone = false;
  #searched = 0;
  #sampled = 0;
  #longest = 1;
  #random: Random;

  constructor(options: ExplorerOptions) {
    this.#o = options;
    this.#random = mulberry32(options.seed);
  }

  /** The next schedule to run, or undefined when the exploration is over. */
  next(): PlannedSchedule | undefined {
    const o = this.#o;
    if (o.pinned) {
      return { source: 'pinned', choose: pinnedChooser(o.pinned) };
    }
    if (!this.#searchDone && this.#searched < o.maxSchedules) {
      this.#searched++;
      const prefix = this.#stack.map((e) => e.chosen);
      return {
        source: 'dfs',
        choose: (k, enabled, history) => {
          if (k >= prefix.length) return defaultChoice(enabled, history);
          const c = prefix[k]!;
          return enabled.includes(c)
            ? c
            : `the search's choice ${k + 1} (request ${c}) was not enabled (enabled: ${enabled.join(', ')}): the target did not repeat the same steps`;
        },
      };
    }
    if (this.#sampled < o.samples) {
      this.#sampled++;
      return { source: 'pct', choose: this.#pctChooser() };
    }
    return undefined;
  }

  /** What a trial of a search schedule met; call once after each `dfs` schedule. */
  record(points: readonly ChoicePoint[]): void {
    this.#longest = Math.max(this.#longest, points.length);
    const stack = this.#stack;
    stack.length = Math.min(stack.length, points.length);
    for (let k = stack.length; k < points.length; k++) {
      const p = points[k]!;
      stack.push({ enabled: p.enabled, chosen: p.chosen, untried: this.#alternatives(points, k) });
    }
    while (stack.length > 0 && stack.at(-1)!.untried.length === 0) stack.pop();
    const top = stack.at(-1);
    if (!top) this.#searchDone = true;
    else top.chosen = top.untried.shift()!;
  }

  summary(): ExplorationSummary {
    return {
      exhaustive: !this.#o.pinned && this.#searchDone,
      searched: this.#searched,
      sampled: this.#sampled,
      pinned: Boolean(this.#o.pinned),
      preemptionBound: this.#o.preemptions,
    };
  }

  /** Alternatives to `points[k].chosen` within the bound and not symmetric to a lower index. */
  #alternatives(points: readonly ChoicePoint[], k: number): number[] {
    const p = points[k]!;
    const before = points.slice(0, k);
    const spent = preemptions(before);
    const last = before.at(-1)?.chosen;
    const ran = new Set(before.map((x) => x.chosen));
    const { groups } = this.#o;
    return p.enabled.filter((alt) => {
      if (alt === p.chosen) return false;
      const cost = last !== undefined && alt !== last && p.enabled.includes(last) ? 1 : 0;
      if (spent + cost > this.#o.preemptions) return false;
      if (ran.has(alt)) return true;
      // A fresh request stands for every fresh request of its template: only the lowest index is tried.
      const lowestFresh = p.enabled.find((r) => !ran.has(r) && groups[r] === groups[alt]);
      return lowestFresh === alt;
    });
  }

  /**
   * PCT: requests get distinct random priorities; d − 1 change points are drawn among the first k steps
   * (k = the longest trial seen so far); at change point j the request that runs drops to priority d − j,
   * below every initial priority. The highest-priority enabled request runs.
   */
  #pctChooser(): Chooser {
    const n = this.#o.groups.length;
    const r = this.#random;
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = randomInt(r, i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const d = this.#o.depth;
    const priority = new Map(order.map((req, rank) => [req, d + rank]));
    const changeAt = new Map<number, number>();
    for (let j = 1; j < d; j++) changeAt.set(randomInt(r, this.#longest), j);
    return (k, enabled) => {
      let best = enabled[0]!;
      for (const e of enabled) if (priority.get(e)! > priority.get(best)!) best = e;
      const j = changeAt.get(k);
      if (j !== undefined) priority.set(best, d - j);
      return best;
    };
  }
}

/** Follows `schedule` exactly; a choice that is not enabled, or a trial longer than it, cannot go on. */
export function pinnedChooser(schedule: Schedule): Chooser {
  return (k, enabled) => {
    if (k >= schedule.length) {
      return `the schedule has ${schedule.length} choices and the trial reached a choice point ${k + 1} (enabled: ${enabled.join(', ')})`;
    }
    const c = schedule[k]!;
    return enabled.includes(c)
      ? c
      : `choice ${k + 1} of the schedule is request ${c}, which has no held step there (enabled: ${enabled.join(', ')})`;
  };
}
