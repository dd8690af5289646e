import { z } from 'zod';
import { WhatbreaksError } from '../../errors.js';
import * as bandwidth from './bandwidth.js';
import type { ToxicModule } from './config.js';
import * as down from './down.js';
import * as latency from './latency.js';
import * as limitData from './limit_data.js';
import * as resetPeer from './reset_peer.js';
import * as slicer from './slicer.js';
import * as slowClose from './slow_close.js';
import * as timeout from './timeout.js';

/**
 * Built-in toxics, keyed by their scenario `type` (Toxiproxy's names). Adding one is one file in this
 * folder and one line in `builtins`; the scenario schema (`toxicConfigSchema`) is built from the same
 * list, so the file format and the registry cannot disagree.
 */
const builtins = [
  latency,
  bandwidth,
  slowClose,
  timeout,
  resetPeer,
  slicer,
  limitData,
  down,
] as const satisfies readonly ToxicModule[];

type Builtins = typeof builtins;
type ConfigsOf<T extends readonly ToxicModule[]> = {
  [K in keyof T]: T[K] extends ToxicModule ? T[K]['config'] : never;
};
export type ToxicType = Builtins[number]['type'];

/** Build a registry from modules; a type registered twice is an error (k6: "registering twice fails loudly"). */
export function buildRegistry<const M extends readonly ToxicModule[]>(
  modules: M,
): { readonly [K in M[number] as K['type']]: K } {
  const out: Record<string, ToxicModule> = {};
  for (const m of modules) {
    if (m.type in out) throw new WhatbreaksError('USAGE', `toxic type "${m.type}" is registered twice`);
    out[m.type] = m;
  }
  return out as { readonly [K in M[number] as K['type']]: K };
}

export const toxicTypes = buildRegistry(builtins);

/** Any toxic's configuration, discriminated on `type` (Toxiproxy's JSON shape). */
export const toxicConfigSchema = z.discriminatedUnion(
  'type',
  builtins.map((m) => m.config) as unknown as ConfigsOf<Builtins>,
);
/** A toxic as written in a scenario (defaults not applied yet). */
export type ToxicConfigInput = z.input<typeof toxicConfigSchema>;
/** A validated toxic configuration with defaults applied. */
export type ToxicConfig = z.output<typeof toxicConfigSchema>;

/** The toxic a parsed configuration describes. */
export function createToxic(cfg: ToxicConfig): ReturnType<ToxicModule['create']> {
  const entry = toxicTypes[cfg.type] as ToxicModule;
  return (entry.create as (a: unknown) => ReturnType<ToxicModule['create']>)(cfg.attributes);
}

/** Validate a toxic configuration; every problem in one error (SCENARIO-style messages). */
export function parseToxicConfig(input: unknown): ToxicConfig {
  const r = toxicConfigSchema.safeParse(input);
  if (r.success) return r.data;
  throw new WhatbreaksError(
    'USAGE',
    `invalid toxic: ${z.prettifyError(r.error).replaceAll('\n', '; ')}`,
    `toxic types: ${Object.keys(toxicTypes).join(', ')}`,
  );
}
