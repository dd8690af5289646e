import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPLICA_HEADER } from '../src/env/load-balancer.js';
import { local } from '../src/env/local.js';
import { pendingCleanups } from '../src/env/teardown.js';
import type { StartedEnvironment } from '../src/env/types.js';
import { createFault } from '../src/timeline/registry.js';
import { startTimeline } from '../src/timeline/timeline.js';

/**
 * Replicas behind the load balancer and the process nemeses, on the real local environment: embedded
 * PostgreSQL and two `payments` replicas (fixed variant). Needs `npm run build`.
 */
const runDir = mkdtempSync(join(tmpdir(), 'whatbreaks-replicas-'));
let env: StartedEnvironment;

beforeAll(async () => {
  env = await local.start({
    target: {
      variant: 'fixed',
      command: ['node', resolve('dist/targets/payments/server.js')],
      cwd: resolve('.'),
      env: { VARIANT: 'fixed', CHARGE_MS: '0' },
      portEnv: 'PORT',
      health: { path: '/health', timeoutMs: 30_000, intervalMs: 50 },
    },
    runDir,
    maxConnections: 100,
    prepareDatabase: (db) =>
      db.reset([
        'CREATE TABLE charges (id bigserial PRIMARY KEY, order_id text NOT NULL, amount integer NOT NULL, idempotency_key text, instance text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())',
      ]),
    replicas: 2,
    startStaggerMs: 200,
  });
});

afterAll(async () => {
  await env?.stop();
  expect(pendingCleanups()).toEqual([]);
  rmSync(runDir, { recursive: true, force: true });
});

/** POST a charge through the balancer; the replica that answered and the status. */
async function pay(n: number): Promise<{ status: number; replica: string }> {
  const res = await request(new URL('/api/payments', env.targetUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ order_id: `o-${n}`, amount: 100 }),
  });
  await res.body.dump();
  return { status: res.statusCode, replica: String(res.headers[REPLICA_HEADER]) };
}

async function payMany(count: number) {
  const out = [];
  for (let i = 0; i < count; i++) out.push(await pay(i));
  return out;
}

describe('replicas and nemeses', () => {
  it('starts two replicas with their own logs behind a round-robin balancer', async () => {
    expect(env.replicas.map((r) => r.id)).toEqual([0, 1]);
    expect(env.targetUrl.port).not.toBe(env.replicas[0]!.url.port);
    for (const id of [0, 1]) expect(existsSync(join(runDir, 'logs', `target-${id}.log`))).toBe(true);
    const seen = await payMany(4);
    expect(seen.map((s) => s.status)).toEqual([201, 201, 201, 201]);
    expect(new Set(seen.map((s) => s.replica))).toEqual(new Set(['0', '1']));
  });

  it('kill-replica: the balancer routes around the dead replica; restartAfter brings it back', async () => {
    const t0 = performance.now();
    const clock = () => performance.now() - t0;
    const oldPid = env.replicas[1]!.pid;
    const tl = startTimeline(
      [
        {
          atMs: 0,
          fault: createFault({
            type: 'kill-replica',
            at: 0,
            replica: 1,
            signal: 'SIGKILL',
            restartAfter: 300,
          }),
        },
      ],
      { env, clock, signal: new AbortController().signal },
    );
    while (!env.replicas[1]!.exit) await new Promise((r) => setTimeout(r, 10));
    expect(env.wasKilled(1)).toBe(true);
    const during = await payMany(6);
    expect(during.every((s) => s.status === 201 && s.replica === '0')).toBe(true);
    // Wait for the restart (the revert) to finish, then stop the timeline.
    while (env.wasKilled(1) || !env.replicas[1]!.pid || env.replicas[1]!.pid === oldPid)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    const [rec] = await tl.stop();
    expect(rec).toMatchObject({ type: 'kill-replica', target: 'replica 1', outcome: 'applied' });
    expect(rec!.endMs).toBeGreaterThan(rec!.startMs + 299);
    expect(rec!.detail).toMatch(/^SIGKILL pid \d+; restarted as pid \d+, healthy at \d+ ms$/);
    const after = await payMany(4);
    expect(new Set(after.map((s) => s.replica))).toEqual(new Set(['0', '1']));
  });

  it('restoreReplicas restarts a replica left dead; restart-replica gives a new pid', async () => {
    env.killReplica(0);
    while (!env.replicas[0]!.exit) await new Promise((r) => setTimeout(r, 10));
    await env.restoreReplicas();
    expect(env.wasKilled(0)).toBe(false);
    expect(env.replicas.every((r) => !r.exit)).toBe(true);

    const before = env.replicas[0]!.pid;
    const t0 = performance.now();
    const tl = startTimeline(
      [
        {
          atMs: 0,
          fault: createFault({
            type: 'restart-replica',
            at: 0,
            replica: 0,
            signal: 'SIGTERM',
            graceMs: 3000,
          }),
        },
      ],
      { env, clock: () => performance.now() - t0, signal: new AbortController().signal },
    );
    while (env.replicas[0]!.pid === before) await new Promise((r) => setTimeout(r, 20));
    const [rec] = await (async () => {
      // The record closes once the new process is healthy.
      for (;;) {
        await new Promise((r) => setTimeout(r, 50));
        try {
          const res = await request(new URL('/health', env.replicas[0]!.url));
          await res.body.dump();
          if (res.statusCode === 200) break;
        } catch {
          // starting
        }
      }
      return tl.stop();
    })();
    expect(rec).toMatchObject({ type: 'restart-replica', outcome: 'applied' });
    expect(rec!.endMs).toBeDefined();
    expect(env.replicas[0]!.pid).not.toBe(before);
  });

  it('pg-terminate-backends kills the target connections only; the target reconnects', async () => {
    await payMany(4); // both pools hold connections
    const targetBackends = async () =>
      (
        await env.database.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'whatbreaks-target-%'",
        )
      ).map((r) => r.pid);
    const before = await targetBackends();
    expect(before.length).toBeGreaterThan(0);
    const t0 = performance.now();
    const tl = startTimeline([{ atMs: 0, fault: createFault({ type: 'pg-terminate-backends', at: 0 }) }], {
      env,
      clock: () => performance.now() - t0,
      signal: new AbortController().signal,
    });
    await new Promise((r) => setTimeout(r, 200));
    const [rec] = await tl.stop();
    expect(rec!.outcome).toBe('applied');
    expect(rec!.detail).toMatch(/^terminated [1-9]\d* backends?$/);
    // whatbreaks' own connection survived (the query below uses it); every target backend that existed
    // is gone (the targets' pools may already have opened new ones: they keep POOL_MIN warm).
    const after0 = await targetBackends();
    expect(after0.filter((pid) => before.includes(pid))).toEqual([]);
    const after = await payMany(4);
    // node-postgres drops a terminated idle client and opens a new one: no request fails.
    expect(after.map((s) => s.status)).toEqual([201, 201, 201, 201]);
  });
});
