import type { z } from 'zod';
import * as burst from './burst.js';
import type { LoadExecutor } from './executor.js';

/** Built-in load executors by their scenario `load.type`. Adding one is one file and one line here. */
export const loadTypes = {
  burst,
} as const satisfies Record<string, { config: z.ZodType; create: (cfg: never) => LoadExecutor }>;

export type LoadConfig = {
  [K in keyof typeof loadTypes]: z.output<(typeof loadTypes)[K]['config']>;
}[keyof typeof loadTypes];

export function createExecutor(cfg: LoadConfig): LoadExecutor {
  const entry = loadTypes[cfg.type];
  return (entry.create as (c: LoadConfig) => LoadExecutor)(cfg);
}
