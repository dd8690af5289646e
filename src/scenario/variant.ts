import { WhatbreaksError } from '../errors.js';
import type { Scenario } from './types.js';

/** Everything needed to start one instance of the target for one variant. */
export interface TargetLaunch {
  variant: string;
  /** String: run through `/bin/sh -c`; array: run directly. `{{port}}` is replaced by the port. */
  command?: string | readonly string[];
  /** Base URL of an external target (already running; nothing to start). */
  url?: string;
  /** Absolute working directory. */
  cwd: string;
  env: Readonly<Record<string, string>>;
  portEnv: string;
  health: { path: string; timeoutMs: number; intervalMs: number };
}

/**
 * The launch description for `variant` (default: the scenario's default variant).
 * @throws WhatbreaksError `VARIANT_UNKNOWN` naming the variants the scenario has.
 */
export function resolveVariant(scenario: Scenario, variant?: string): TargetLaunch {
  const t = scenario.target;
  const names = Object.keys(t.variants);
  const name = variant ?? t.defaultVariant ?? 'default';
  const v = t.variants[name];
  if (!v && !(names.length === 0 && variant === undefined)) {
    throw new WhatbreaksError(
      'VARIANT_UNKNOWN',
      `${scenario.file}: target has no variant '${name}'`,
      names.length
        ? `variants in this scenario: ${names.join(', ')}`
        : 'this scenario defines no variants; omit --variant',
    );
  }
  return {
    variant: name,
    command: v?.command ?? t.command,
    url: t.url,
    cwd: v?.cwd ?? t.cwd,
    env: { ...t.env, ...(v?.env ?? {}) },
    portEnv: t.portEnv,
    health: t.health,
  };
}
