import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { observe } from '../src/invariants/threshold.js';
import { parseThreshold } from '../src/invariants/threshold-expr.js';
import { config, create } from '../src/load/constant-arrival-rate.js';
import type { LoadResult } from '../src/load/types.js';
import { runScenario } from '../src/run.js';
import { parseScenario } from '../src/scenario/load.js';
import { spawnFixtureServer } from './fixtures/spawn-server.js';
import { ROOT } from './helpers.js';

/**
 * The open model against a real HTTP server in its own process. The coordinated-omission demonstration
 * of wrk2's README: the target stalls once; requests keep being due during the stall; corrected latency
 * (from the intended send time) shows the stall, uncorrected latency (from the actual send) hides it
 * because only the few requests already on the wire saw it.
 */
let stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops) await s();
  stops = [];
});

async function runAgainst(url: URL, cfg: Record<string, unknown>): Promise<LoadResult> {
  const t0 = performance.now();
  const executor = create(
    config.parse({ type: 'constant-arrival-rate', request: { method: 'GET', path: '/x' }, ...cfg }),
  );
  return executor.run({
    baseUrl: url,
    clock: () => performance.now() - t0,
    signal: new AbortController().signal,
    healthPath: '/health',
    render: (i) => ({ index: i, method: 'GET', path: `/x?i=${i}`, headers: {} }),
  });
}

describe('constant-arrival-rate', () => {
  it('sends on schedule and records intended and actual send times', async () => {
    const server = await spawnFixtureServer('stall-server.mjs');
    stops.push(server.stop);
    const load = await runAgainst(server.url, { rate: 200, durationMs: 1000, preAllocatedConnections: 4 });
    expect(load.records).toHaveLength(200);
    expect(load.records.every((r) => r.status === 200 && r.bodyLines === 1 && r.bodyBytes === 3)).toBe(true);
    const intended = load.records.map((r) => r.intendedAtMs!);
    // Intended send times are 5 ms apart (200 req/s), whatever the responses did.
    for (let i = 1; i < intended.length; i++) expect(intended[i]! - intended[i - 1]!).toBeCloseTo(5, 6);
    expect(load.records.every((r) => r.sentAtMs >= r.intendedAtMs!)).toBe(true);
    expect(load.openModel?.sent).toBe(200);
    expect(load.openModel?.dropped).toBe(0);
  });

  it('shows a 1.5 s stall in corrected latency while uncorrected latency hides it', async () => {
    const server = await spawnFixtureServer('stall-server.mjs', { STALL_AT_MS: '1000', STALL_MS: '1500' });
    stops.push(server.stop);
    const load = await runAgainst(server.url, {
      rate: 500,
      durationMs: 4000,
      preAllocatedConnections: 4,
      maxConnections: 4,
    });
    const s = load.openModel!;
    console.log(
      `stall 1500 ms at 500 req/s, 4 connections: corrected p99 ${s.latencyCorrected.p99} ms (max ${s.latencyCorrected.max}), uncorrected p99 ${s.latencyUncorrected.p99} ms (max ${s.latencyUncorrected.max}); ${s.waitedForConnection} sends waited for a connection`,
    );
    expect(s.sent).toBe(2000);
    expect(s.latencyCorrected.p99).toBeGreaterThanOrEqual(1000);
    expect(s.latencyUncorrected.p99).toBeLessThan(s.latencyCorrected.p99);
    // Only the 4 requests on the wire saw the stall from their actual send.
    expect(s.latencyUncorrected.p99).toBeLessThan(1000);
    expect(s.waitedForConnection).toBeGreaterThan(100);
    // A threshold on http_req_duration judges the corrected latency; the uncorrected one would pass.
    const corrected = observe(parseThreshold('p(99) < 500ms', 'http_req_duration'), load);
    const uncorrected = observe(parseThreshold('p(99) < 500ms', 'http_req_duration_uncorrected'), load);
    expect(corrected).toBeGreaterThanOrEqual(1000);
    expect(uncorrected).toBeLessThan(500);
  });

  it('drops sends that wait longer than maxQueueMs for a connection, and says so', async () => {
    const server = await spawnFixtureServer('stall-server.mjs', { STALL_AT_MS: '20', STALL_MS: '1000' });
    stops.push(server.stop);
    const load = await runAgainst(server.url, {
      rate: 100,
      durationMs: 1000,
      preAllocatedConnections: 1,
      maxConnections: 1,
      maxQueueMs: 200,
    });
    expect(load.records).toHaveLength(100);
    expect(load.openModel!.dropped).toBeGreaterThan(0);
    expect(load.records.filter((r) => r.error === 'dropped')).toHaveLength(load.openModel!.dropped);
    expect(load.warnings.join('\n')).toMatch(/dropped after 200 ms/);
  });

  it('gives up a request timeoutMs after its actual send even while its body keeps trickling', async () => {
    // Headers at once, then a chunk every 20 ms forever: undici's idle timeouts never fire.
    const server = createServer((req, res) => {
      if (req.url === '/health') return void res.end('ok');
      res.writeHead(200);
      const drip = setInterval(() => res.write('.'), 20);
      res.on('close', () => clearInterval(drip));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    stops.push(() => new Promise((r) => server.close(() => r()).closeAllConnections()));
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const load = await runAgainst(url, {
      rate: 20,
      durationMs: 200,
      preAllocatedConnections: 4,
      timeoutMs: 300,
    });
    expect(load.records).toHaveLength(4);
    for (const r of load.records) {
      expect(r.error).toBe('TIMEOUT');
      expect(r.latencyMs).toBeUndefined();
    }
    expect(load.durationMs).toBeLessThan(2000);
  });
});

describe('constant-arrival-rate in a run', () => {
  it('counts fault times from the first measured send, not from the start of its warm-up', async () => {
    const path = join(ROOT, 'scenarios', 'open-model-fault.yaml'); // not written: paths resolve from here
    const scenario = parseScenario(
      `name: open-model-fault
target:
  command: node ../dist/targets/jobs/server.js
  health: { path: /health }
database:
  schema: ../targets/jobs/schema.sql
  seed: ../targets/jobs/seed.sql
load:
  type: constant-arrival-rate
  rate: 50
  durationMs: 2000
  warmUpMs: 800
  request: { method: GET, path: /health }
faults:
  - type: pg-terminate-backends
    at: 1s
invariants:
  - type: responses
    name: served
    allowed: [200]
trials: 1
`,
      path,
    );
    const { report } = await runScenario(scenario, {
      trials: 1,
      outDir: mkdtempSync(join(tmpdir(), 'whatbreaks-open-model-fault-')),
    });
    const trial = report.trials[0]!;
    const firstSend = Math.min(...trial.load.records.map((r) => r.sentAtMs));
    const fault = trial.faults![0]!;
    expect(fault.outcome).toBe('applied');
    // 1 s after the first measured send, not 800 ms of warm-up earlier (≈ 200 ms). The margin is half the
    // warm-up either way: on a busy machine the first send's stamp (taken when its bytes reach the
    // socket) trails the moment the clock starts by more than a few ms (seen: 13.5 ms), and timers fire late.
    const warmUpMs = 800;
    expect(fault.startMs - firstSend).toBeGreaterThan(1000 - warmUpMs / 2);
    expect(fault.startMs - firstSend).toBeLessThan(1000 + warmUpMs / 2);
  });
});
