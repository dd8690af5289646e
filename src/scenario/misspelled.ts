import type { z } from 'zod';
import { rawAt } from './issues.js';
import { closest, knownKeysAt } from './locate.js';
import { scenarioSchema } from './schema.js';

type Key = string | number;

/** A misspelled key and the known key it is read as (`invariant` → `invariants` at the top level). */
export interface Rename {
  readonly parent: readonly Key[];
  readonly from: string;
  readonly to: string;
}

/**
 * The document with every misspelled key that has a close known key, absent beside it, renamed to that
 * key; undefined when there is none. Checking this copy too reports the problems *inside* a misspelled
 * block in the same pass as the misspelling (`invariant:` with a bad `type` below it), instead of after
 * the user fixed the key. The key's own issue ("did you mean") comes from the first check.
 */
export function renameMisspelled(
  zissues: readonly z.core.$ZodIssue[],
  value: unknown,
): { value: unknown; renames: Rename[] } | undefined {
  const renames: Rename[] = [];
  const copy = structuredClone(value);
  for (const issue of zissues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const parent = issue.path.filter((k): k is Key => typeof k !== 'symbol');
    const known = knownKeysAt(scenarioSchema, parent, value);
    const node = rawAt(copy, parent);
    if (!node || typeof node !== 'object') continue;
    for (const key of issue.keys) {
      const to = closest(key, known);
      if (!to || to in node || !(key in node)) continue;
      const record = node as Record<string, unknown>;
      record[to] = record[key];
      delete record[key];
      renames.push({ parent, from: key, to });
    }
  }
  return renames.length ? { value: copy, renames } : undefined;
}

/**
 * `path` (in the renamed copy) as written in the file, when it lies inside a renamed block; undefined
 * for a path outside every renamed block.
 */
export function writtenPath(path: readonly Key[], renames: readonly Rename[]): Key[] | undefined {
  for (const r of renames) {
    const n = r.parent.length;
    if (path.length > n && r.parent.every((k, i) => path[i] === k) && path[n] === r.to)
      return [...path.slice(0, n), r.from, ...path.slice(n + 1)];
  }
  return undefined;
}
