/**
 * The step gate: decides when a step that is complete at the proxy goes to the server.
 *
 * ```
 *  client ─► [frames ─► step complete] ─► gate.admit(step) ── 'release' ──► server
 *                                                └─ 'hold' ─► held until proxy.release(step)
 * ```
 *
 * The proxy asks once per step, when the step is complete and first in line on its connection (steps of
 * one connection go in order, so a connection has at most one held step). The default gate releases
 * every step at once: the proxy is then a pass-through that only observes. A scheduler installs a gate
 * that holds steps and releases them one at a time (`proxy.release(step)`).
 */
import type { Step } from './step.js';

export type GateDecision = 'release' | 'hold';

export interface StepGate {
  /**
   * `'release'` to forward the step now, `'hold'` to keep it until `proxy.release(step)`. Called
   * synchronously while the proxy handles the client's bytes: it must not call `release` itself (return
   * `'release'` instead) and should be quick.
   */
  admit(step: Readonly<Step>): GateDecision;
}

/** Releases every step at once (the default). */
export const passThrough: StepGate = { admit: () => 'release' };

/** Holds every step. */
export function holdAll(): StepGate {
  return { admit: () => 'hold' };
}

/** Holds the steps `predicate` accepts, releases the others at once. */
export function holdWhen(predicate: (step: Readonly<Step>) => boolean): StepGate {
  return { admit: (step) => (predicate(step) ? 'hold' : 'release') };
}

/** The built-in gates, for discovery: `Gate.passThrough`, `Gate.holdAll()`, `Gate.holdWhen(…)`. */
export const Gate = { passThrough, holdAll, holdWhen } as const;
