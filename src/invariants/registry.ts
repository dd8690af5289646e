import type { z } from 'zod';
import * as exactlyOnce from './exactly-once.js';
import * as herd from './herd.js';
import * as memory from './memory.js';
import * as responses from './responses.js';
import * as sql from './sql.js';
import * as threshold from './threshold.js';
import type { Invariant } from './types.js';

/**
 * Built-in invariants by their scenario `type`. Adding one is one file and one line here; the scenario
 * schema is built from these configs, so the file format and the registry cannot disagree.
 */
export const invariantTypes = {
  sql,
  responses,
  memory,
  threshold,
  'exactly-once': exactlyOnce,
  herd,
} as const satisfies Record<string, { config: z.ZodType; create: (cfg: never) => Invariant }>;

export type InvariantConfig = {
  [K in keyof typeof invariantTypes]: z.output<(typeof invariantTypes)[K]['config']>;
}[keyof typeof invariantTypes];

export function createInvariant(cfg: InvariantConfig): Invariant {
  const entry = invariantTypes[cfg.type];
  return (entry.create as (c: InvariantConfig) => Invariant)(cfg);
}
