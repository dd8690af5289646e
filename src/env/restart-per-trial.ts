import type { StartedEnvironment } from './types.js';

/**
 * `target.restart: per-trial`: before a trial (after its database reset), stop every replica (SIGTERM,
 * SIGKILL after `GRACE_MS`) and start it again on the same port with the same environment, all replicas
 * at once, resolving when every one answers its health path again. For targets that keep state in
 * memory (a cache, a counter, a lock), which would otherwise carry over into the next trial while the
 * database starts fresh. The price is one stop, start and health check per replica per trial.
 * @returns how long the restart took, ms.
 * @throws WhatbreaksError `TARGET_FAILED` / `TARGET_UNHEALTHY` when a replica does not come back (the
 *   run then stops with exit 2, as when it does not start at all).
 */
export const GRACE_MS = 5_000;

export async function restartReplicasForTrial(env: StartedEnvironment): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    env.replicas.map((r) => env.restartReplica(r.id, { signal: 'SIGTERM', graceMs: GRACE_MS })),
  );
  return performance.now() - t0;
}
