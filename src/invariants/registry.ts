import type { z } from 'zod';
import * as exactlyOnce from './exactly-once.js';
import * as herd from './herd.js';
import * as memory from './memory.js';
import * as responses from './responses.js';
import * as sql from './sql.js';
import * as threshold from './threshold.js';
import type { Invariant, InvariantCheckContext } from './types.js';

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

/**
 * Scenario-time checks an invariant type makes against the rest of the scenario (an optional `check`
 * export beside `config` and `create`): each issue names the field of the invariant's block it is about.
 */
export function checkInvariant(
  cfg: InvariantConfig,
  ctx: InvariantCheckContext,
): { field: string; message: string }[] {
  const entry = invariantTypes[cfg.type] as {
    check?: (c: InvariantConfig, x: InvariantCheckContext) => { field: string; message: string }[];
  };
  return entry.check ? entry.check(cfg, ctx) : [];
}

export function createInvariant(cfg: InvariantConfig): Invariant {
  const entry = invariantTypes[cfg.type];
  return (entry.create as (c: InvariantConfig) => Invariant)(cfg);
}
