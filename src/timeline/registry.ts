import type { z } from 'zod';
import type { Fault, FaultCheckContext, FaultType } from './fault.js';
import * as httpFault from './faults/http-fault.js';
import * as toxic from './faults/toxic.js';
import * as upstreamDown from './faults/upstream-down.js';
import * as killReplica from './nemeses/kill-replica.js';
import * as pgTerminateBackends from './nemeses/pg-terminate-backends.js';
import * as restartReplica from './nemeses/restart-replica.js';
import type { ScheduledFault } from './timeline.js';

/**
 * Faults by their scenario `type`. Adding one — a TCP toxic from `src/faults/`, an HTTP fault — is one
 * file exporting `config` (built with `faultConfig`) and `create`, and one line here; the scenario
 * schema is built from these configs.
 */
export const faultTypes = {
  'kill-replica': killReplica,
  'restart-replica': restartReplica,
  'pg-terminate-backends': pgTerminateBackends,
  toxic,
  'http-fault': httpFault,
  'upstream-down': upstreamDown,
} as const satisfies Record<string, FaultType>;

export type FaultConfig = {
  [K in keyof typeof faultTypes]: z.output<(typeof faultTypes)[K]['config']>;
}[keyof typeof faultTypes];

function entry(cfg: FaultConfig): FaultType {
  return faultTypes[cfg.type] as FaultType;
}

export function createFault(cfg: FaultConfig): Fault {
  return (entry(cfg).create as (c: FaultConfig) => Fault)(cfg);
}

export function faultResources(cfg: FaultConfig): string[] {
  const f = entry(cfg).resources as ((c: FaultConfig) => string[]) | undefined;
  return f ? f(cfg) : [];
}

export function checkFault(cfg: FaultConfig, ctx: FaultCheckContext): string[] {
  const f = entry(cfg).check as ((c: FaultConfig, x: FaultCheckContext) => string[]) | undefined;
  return f ? f(cfg, ctx) : [];
}

/** How long `cfg` holds its resources, ms (`Infinity`: to the end of the trial). */
export function faultWindowMs(cfg: FaultConfig): number {
  const f = entry(cfg).windowMs as ((c: FaultConfig) => number) | undefined;
  return f ? f(cfg) : (cfg.for ?? Number.POSITIVE_INFINITY);
}

/** The scenario's `faults:` as a schedule for `startTimeline`. */
export function scheduleFaults(faults: readonly FaultConfig[]): ScheduledFault[] {
  return faults.map((cfg) => ({ atMs: cfg.at, forMs: cfg.for, fault: createFault(cfg) }));
}
