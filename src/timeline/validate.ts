import { formatDurationMs } from './duration.js';
import { checkFault, type FaultConfig, faultResources, faultWindowMs } from './registry.js';

/** A problem in the scenario's `faults:` list; `path` is relative to the scenario root, for line/column. */
export interface TimelineIssue {
  path: (string | number)[];
  message: string;
}

export interface TimelineCheckContext {
  replicas: number;
  /** How long the load runs, ms, when the executor knows it in advance (idle, duplicate delivery). */
  loadDurationMs?: number;
  /** The scenario's dependencies and what proxy each has (`postgres`: the database's proxy). */
  dependencies?: Readonly<Record<string, 'http' | 'tcp' | 'none'>>;
}

/** `replica:*` (a replica chosen at run time) is the same resource as any `replica:<n>`. */
function sameResource(a: string, b: string): boolean {
  if (a === b) return true;
  const [ka, ia] = a.split(':');
  const [kb, ib] = b.split(':');
  return ka === kb && (ia === '*' || ib === '*');
}

/**
 * Checks that need the whole scenario, collected (never stopping at the first): a fault `at` or after
 * the end of the load (it would never be applied); a fault's own checks (the replica exists); and two
 * faults holding the same resource (`replica:1`) at overlapping times — killing a replica while it is
 * being restarted means nothing reproducible. A fault without `for` holds its resource to the end.
 */
export function validateFaults(faults: readonly FaultConfig[], ctx: TimelineCheckContext): TimelineIssue[] {
  const issues: TimelineIssue[] = [];
  const windows: { i: number; start: number; end: number; resources: string[] }[] = [];
  faults.forEach((f, i) => {
    if (ctx.loadDurationMs !== undefined && f.at >= ctx.loadDurationMs) {
      issues.push({
        path: ['faults', i, 'at'],
        message: `at ${formatDurationMs(f.at)} is not before the end of the load (${formatDurationMs(ctx.loadDurationMs)}): it would never be applied`,
      });
    }
    for (const m of checkFault(f, { replicas: ctx.replicas, dependencies: ctx.dependencies ?? {} }))
      issues.push({ path: ['faults', i], message: m });
    windows.push({
      i,
      start: f.at,
      end: f.at + faultWindowMs(f),
      resources: faultResources(f),
    });
  });
  for (const b of windows) {
    for (const a of windows) {
      if (a.i >= b.i) continue;
      // Named by the more specific side: `replica:1`, not `replica:*`.
      const shared = a.resources.flatMap((r) =>
        b.resources.filter((q) => sameResource(r, q)).map((q) => (r.endsWith(':*') ? q : r)),
      );
      // Half-open windows [start, end); an instantaneous fault occupies its start.
      const overlap =
        a.start <= b.start ? b.start < Math.max(a.end, a.start + 1) : a.start < Math.max(b.end, b.start + 1);
      if (shared.length > 0 && overlap) {
        issues.push({
          path: ['faults', b.i, 'at'],
          message: `overlaps fault ${a.i + 1} (${faults[a.i]!.type} at ${formatDurationMs(a.start)}${Number.isFinite(a.end) ? ` until ${formatDurationMs(a.end)}` : ', never reverted'}) on ${shared.join(', ')}`,
        });
      }
    }
  }
  return issues;
}
