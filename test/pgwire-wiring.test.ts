import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgwireProxyOf, tcpProxyOf } from '../src/env/dependencies.js';
import { local } from '../src/env/local.js';
import { pendingCleanups } from '../src/env/teardown.js';
import type { StartedEnvironment } from '../src/env/types.js';
import { holdWhen, passThrough } from '../src/pgwire/gate.js';
import type { Step } from '../src/pgwire/step.js';
import { runScenario } from '../src/run.js';
import { parseScenario } from '../src/scenario/load.js';
import { ROOT } from './helpers.js';

/**
 * `database.proxy: { protocol: postgres }` on the real local environment: the `jobs` target (buggy)
 * reaches PostgreSQL through the protocol proxy and then the TCP fault proxy `postgres`, whose toxics
 * keep working. Needs `npm run build`.
 */
const runDir = mkdtempSync(join(tmpdir(), 'whatbreaks-pgwire-wiring-'));
const jobsSql = ['schema.sql', 'seed.sql'].map((f) => readFileSync(join(ROOT, 'targets', 'jobs', f), 'utf8'));
let env: StartedEnvironment;
const logs: string[] = [];

beforeAll(async () => {
  env = await local.start({
    target: {
      variant: 'buggy',
      command: ['node', resolve('dist/targets/jobs/server.js')],
      cwd: resolve('.'),
      env: { VARIANT: 'buggy' },
      portEnv: 'PORT',
      health: { path: '/health', timeoutMs: 30_000, intervalMs: 50 },
    },
    runDir,
    maxConnections: 100,
    prepareDatabase: (db) => db.reset(jobsSql),
    databaseProxy: { protocol: 'postgres' },
    log: (line) => logs.push(line),
  });
});

afterAll(async () => {
  await env?.stop();
  expect(pendingCleanups()).toEqual([]);
  rmSync(runDir, { recursive: true, force: true });
});

async function complete(worker: string): Promise<number> {
  const res = await request(new URL('/api/jobs/1/complete', env.targetUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ result: `done by ${worker}` }),
  });
  await res.body.dump();
  return res.statusCode;
}

describe('database.proxy: { protocol: postgres }', () => {
  it('the target’s statements pass the protocol proxy as steps, in front of the TCP proxy', async () => {
    const pg = pgwireProxyOf(env.dependencies);
    const tcp = tcpProxyOf(env.dependencies, 'postgres');
    expect(pg.upstream).toEqual(tcp.address);
    expect(logs.join('\n')).toMatch(/proxy postgres \(postgres protocol at 127\.0\.0\.1:\d+ → tcp at/);
    await env.database.reset(jobsSql);
    const steps: Step[] = [];
    const onDone = (s: Step) => steps.push(s);
    pg.on('step-done', onDone);
    expect(await complete('A')).toBe(200);
    pg.off('step-done', onDone);
    expect(steps.map((s) => s.statements[0]?.text)).toEqual([
      'SELECT status FROM jobs WHERE id = $1',
      "UPDATE jobs SET status = 'completed', result = $2, completed_at = now() WHERE id = $1",
      "INSERT INTO notifications (job_id, kind, result) VALUES ($1, 'job_completed', $2)",
      "INSERT INTO job_status_history (job_id, status) VALUES ($1, 'completed')",
    ]);
    expect(steps[1]!.statements[0]!.params).toEqual([
      { format: 'text', value: '1' },
      { format: 'text', value: 'done by A' },
    ]);
    expect(pg.connections().every((c) => c.phase === 'ready' && c.backendPid! > 0)).toBe(true);
    expect(tcp.acceptedCount).toBe(pg.acceptedCount);
  });

  it('holding both requests’ UPDATE until both have read reproduces the check-then-act race every time', async () => {
    const pg = pgwireProxyOf(env.dependencies);
    for (let round = 0; round < 2; round++) {
      await env.database.reset(jobsSql);
      pg.gate = holdWhen((s) => s.statements[0]?.text.startsWith('UPDATE jobs') ?? false);
      const statuses = Promise.all([complete('A'), complete('B')]);
      while (pg.held().length < 2) await pg.waitFor('step-held', undefined, AbortSignal.timeout(20_000));
      pg.gate = passThrough;
      pg.releaseAll();
      // Both read in_progress: both complete the job, the second status insert hits the unique key → 500.
      expect((await statuses).sort()).toEqual([200, 500]);
      const rows = await env.database.query('SELECT count(*)::int AS n FROM notifications');
      expect(rows[0]).toEqual({ n: 2 });
    }
  });

  it('a latency toxic on the TCP proxy `postgres` still slows every step', async () => {
    const pg = pgwireProxyOf(env.dependencies);
    const tcp = tcpProxyOf(env.dependencies, 'postgres');
    await env.database.reset(jobsSql);
    const steps: Step[] = [];
    const onDone = (s: Step) => steps.push(s);
    pg.on('step-done', onDone);
    await tcp.addToxic({ type: 'latency', stream: 'downstream', attributes: { latency: 300 } });
    try {
      expect(await complete('A')).toBe(200);
    } finally {
      await tcp.removeToxic('latency_downstream');
      pg.off('step-done', onDone);
    }
    expect(steps).toHaveLength(4);
    for (const s of steps) expect(s.timing.doneAtMs! - s.timing.releasedAtMs!).toBeGreaterThanOrEqual(300);
  });
});

describe('a scenario with database.proxy: { protocol: postgres }', () => {
  const file = join(ROOT, 'scenarios', 'single-completion.yaml');
  const text = readFileSync(file, 'utf8').replace(
    '  seed: ../targets/jobs/seed.sql',
    '  seed: ../targets/jobs/seed.sql\n  proxy: { protocol: postgres }',
  );

  it('runs through the protocol proxy and still catches the buggy variant', async () => {
    expect(text).toContain('proxy: { protocol: postgres }');
    const scenario = parseScenario(text, file);
    expect(scenario.database.proxy).toEqual({ protocol: 'postgres' });
    const lines: string[] = [];
    const outDir = mkdtempSync(join(tmpdir(), 'whatbreaks-test-run-'));
    const { report } = await runScenario(scenario, {
      variant: 'buggy',
      trials: 2,
      outDir,
      onEvent: (e) => {
        if (e.type === 'log') lines.push(e.line);
      },
    });
    expect(lines.join('\n')).toContain('postgres protocol');
    expect(report.verdict).toBe('fail');
    rmSync(outDir, { recursive: true, force: true });
  });

  it('accepts true and { protocol: tcp }, rejects another protocol', () => {
    const withProxy = (v: string) =>
      parseScenario(text.replace('proxy: { protocol: postgres }', `proxy: ${v}`), file).database.proxy;
    expect(withProxy('true')).toBe(true);
    expect(withProxy('{ protocol: tcp }')).toEqual({ protocol: 'tcp' });
    expect(withProxy('{}')).toEqual({ protocol: 'tcp' });
    expect(() => withProxy('{ protocol: mysql }')).toThrow(/database\.proxy/);
  });
});
