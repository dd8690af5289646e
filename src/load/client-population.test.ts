import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { killGroup } from '../env/teardown.js';
import { create, skippedBefore } from './client-population.js';
import type { LoadCounters, LoadResult } from './types.js';

/**
 * The client population against a real HTTP server in a child process (its own event loop): 10,000
 * clients in one process, and the closed-loop pacing (one request in flight per client, missed ticks
 * skipped, each client on its own phase).
 */
const SERVER = `
const http = require('node:http');
const delay = Number(process.env.DELAY_MS || 0);
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => {
  const end = () => res.end('ok'); delay ? setTimeout(end, delay) : end(); }); });
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`;

let child: ChildProcess | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = once(child, 'exit');
    killGroup(child.pid, 'SIGKILL');
    await exited;
  }
  child = undefined;
});

async function server(delayMs: number): Promise<URL> {
  child = spawn(process.execPath, ['-e', SERVER], {
    env: { ...process.env, DELAY_MS: String(delayMs) },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  let text = '';
  for await (const chunk of child.stdout!) {
    text += String(chunk);
    const m = /listening (\d+)/.exec(text);
    if (m) return new URL(`http://127.0.0.1:${m[1]}`);
  }
  throw new Error('fixture server exited before listening');
}

async function run(
  url: URL,
  cfg: { clients: number; intervalMs: number; durationMs: number; rampMs?: number },
  progress?: LoadCounters,
): Promise<LoadResult> {
  const t0 = performance.now();
  return create({
    type: 'client-population',
    timeoutMs: 60_000,
    ...cfg,
    request: { method: 'POST', path: '/x', headers: {} },
  }).run({
    baseUrl: url,
    clock: () => performance.now() - t0,
    signal: new AbortController().signal,
    healthPath: '/health',
    render: (i) => ({ index: i, method: 'POST', path: '/x', headers: {}, body: Buffer.from('{}') }),
    progress,
  });
}

describe('client-population', () => {
  it('holds 10,000 clients in one process, every one of them sending', async () => {
    const url = await server(0);
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    const r = await run(url, { clients: 10_000, intervalMs: 5_000, durationMs: 5_000 });
    clearInterval(sampler);
    const perClient = new Map<number, number>();
    for (const rec of r.records) perClient.set(rec.connection, (perClient.get(rec.connection) ?? 0) + 1);
    const failed = r.records.filter((x) => x.status !== 200);
    console.log(
      `10,000 clients: ${r.records.length} requests, ${failed.length} without 200, RSS +${((peak - rss0) / 2 ** 20).toFixed(0)} MiB (peak ${(peak / 2 ** 20).toFixed(0)} MiB); ${r.warnings.join('; ') || 'no warnings'}`,
    );
    expect(failed).toEqual([]);
    expect(perClient.size).toBe(10_000);
    expect(r.records).toHaveLength(10_000);
  });

  it('keeps one request in flight per client, on its own phase, skipping ticks it missed', async () => {
    // Each response takes 250 ms; clients want one every 100 ms: they send at ticks 0, 300, 600, 900 of their phase.
    const url = await server(250);
    const cfg = { clients: 20, intervalMs: 100, durationMs: 1_000, rampMs: 100 };
    const progress: LoadCounters = { sent: 0, answered: 0 };
    const r = await run(url, cfg, progress);
    const byClient = new Map<number, typeof r.records>();
    for (const rec of r.records) byClient.set(rec.connection, [...(byClient.get(rec.connection) ?? []), rec]);
    expect(byClient.size).toBe(20);
    const start = Math.min(...r.records.map((x) => x.intendedAtMs!)) - 0; // client 0's first tick
    for (const [k, recs] of byClient) {
      recs.sort((a, b) => a.sentAtMs - b.sentAtMs);
      const phase = start + (k * cfg.rampMs) / cfg.clients;
      for (let i = 0; i < recs.length; i++) {
        const rec = recs[i]!;
        expect(rec.status).toBe(200);
        // On the client's phase: the tick is a whole number of intervals after its first.
        const m = (rec.intendedAtMs! - phase) / cfg.intervalMs;
        expect(Math.abs(m - Math.round(m))).toBeLessThan(1e-6);
        if (i > 0) {
          const prev = recs[i - 1]!;
          // Never two in flight: this one left after the previous answer came back…
          expect(rec.sentAtMs).toBeGreaterThanOrEqual(prev.sentAtMs + prev.latencyMs!);
          // … and the ticks that passed meanwhile were skipped, not made up.
          expect(rec.intendedAtMs! - prev.intendedAtMs!).toBeGreaterThanOrEqual(2 * cfg.intervalMs);
        }
      }
      expect(recs.length).toBeLessThanOrEqual(4);
    }
    // Every tick before the end that a client did not send at was skipped, and counted.
    let expected = 0;
    for (const [k, recs] of byClient) {
      const phase = start + (k * cfg.rampMs) / cfg.clients;
      expected += Math.ceil((start + cfg.durationMs - phase) / cfg.intervalMs - 1e-9) - recs.length;
    }
    expect(expected).toBeGreaterThan(0);
    expect(r.skippedTicks).toBe(expected);
    expect(r.warnings.join('\n')).toContain(`${expected} client ticks skipped`);
    // The progress counters saw every request go out and come back.
    expect(progress).toMatchObject({ sent: r.records.length, answered: r.records.length });
  });

  it('counts only the skipped ticks that were due before the end of the load', () => {
    expect(skippedBefore(100, 3, 100, 1000)).toBe(3);
    expect(skippedBefore(800, 3, 100, 1000)).toBe(2); // 800, 900; 1000 was never due
    expect(skippedBefore(1000, 2, 100, 1000)).toBe(0);
    expect(skippedBefore(850, 1, 100, 900)).toBe(1);
  });
});
