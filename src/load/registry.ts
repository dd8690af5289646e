import type { z } from 'zod';
import * as burst from './burst.js';
import * as clientPopulation from './client-population.js';
import * as closedModel from './closed-model.js';
import * as constantArrivalRate from './constant-arrival-rate.js';
import * as duplicateDelivery from './duplicate-delivery.js';
import type { LoadExecutor } from './executor.js';
import * as idle from './idle.js';
import * as interleave from './interleave.js';

/** Built-in load executors by their scenario `load.type`. Adding one is one file and one line here. */
export const loadTypes = {
  burst,
  idle,
  'duplicate-delivery': duplicateDelivery,
  'constant-arrival-rate': constantArrivalRate,
  'closed-model': closedModel,
  'client-population': clientPopulation,
  interleave,
} as const satisfies Record<string, { config: z.ZodType; create: (cfg: never) => LoadExecutor }>;

export type LoadConfig = {
  [K in keyof typeof loadTypes]: z.output<(typeof loadTypes)[K]['config']>;
}[keyof typeof loadTypes];

export function createExecutor(cfg: LoadConfig): LoadExecutor {
  const entry = loadTypes[cfg.type];
  return (entry.create as (c: LoadConfig) => LoadExecutor)(cfg);
}

/** How long the load runs, ms, when its executor knows in advance (exports `plannedDurationMs`). */
export function plannedLoadDurationMs(cfg: LoadConfig): number | undefined {
  const entry = loadTypes[cfg.type] as { plannedDurationMs?: (c: LoadConfig) => number };
  return entry.plannedDurationMs?.(cfg);
}
