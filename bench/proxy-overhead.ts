/**
 * Proxy overhead: latency the fault proxy (`src/faults/proxy.ts`) adds with no toxic, at a constant
 * 1,000 req/s, direct vs through the proxy. Acceptance target: added p50 ≤ 0.2 ms.
 *
 * Setup, as whatbreaks runs it: the upstream HTTP server is a separate Node process (a dependency);
 * the load generator and the proxy share this process (whatbreaks hosts both). Load is open-loop: request
 * i is due at start + i/rate whatever happened before it, and latency counts from that due time
 * (corrected for coordinated omission); "service" counts from the actual send. Targets are measured
 * in interleaved rounds (direct, proxy, proxy + a `latency 0` toxic, …) so drift hits all alike.
 * Histograms: hdr-histogram-js, µs, 3 significant digits.
 *
 * Build and run like the other benches (`bench/tsconfig.json` compiles them and what they import into
 * `dist/`). On a shared machine, SCHED_FIFO keeps other processes from preempting the measurement
 * (as for sync-spread; the upstream child inherits it):
 *
 *   npx tsc -p bench/tsconfig.json
 *   chrt -f 20 node dist/bench/proxy-overhead.js      # or plain `node dist/bench/proxy-overhead.js`
 *
 * Options: `--rate 1000 --round-s 0.5 --rounds 40 --warmup-s 1 --connections 32`. Prints a Markdown table.
 * Short interleaved rounds keep bursts of noise from other processes from landing on one target only;
 * "paired added p50" is the median over rounds of (target's p50 − direct's p50 in the same round), the
 * estimate least moved by such bursts. "max send lag" shows how late the scheduler was: when it is large,
 * the machine was busy and the tails say more about it than about the proxy.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import { startProxy } from '../src/faults/proxy.js';

interface Options {
  rate: number;
  roundS: number;
  rounds: number;
  warmupS: number;
  connections: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { rate: 1000, roundS: 0.5, rounds: 40, warmupS: 1, connections: 32 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    const value = Number(argv[i + 1]);
    if (!key || !(key in o) || !Number.isFinite(value)) throw new Error(`unknown or bad option: ${argv[i]}`);
    o[key as keyof Options] = value;
  }
  return o;
}

/** Upstream: a minimal HTTP server in its own process; resolves with its port. */
async function startUpstream(): Promise<{ port: number; stop(): void }> {
  const code = `
    const http = require('node:http');
    const s = http.createServer((req, res) => { res.writeHead(200, { 'content-length': 2 }); res.end('ok'); });
    s.keepAliveTimeout = 60000;
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (b: Buffer) => resolve(Number(b.toString().trim())));
    child.once('exit', (c) => reject(new Error(`upstream exited with ${c}`)));
  });
  return { port, stop: () => child.kill() };
}

function histogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

interface Target {
  name: string;
  pool: Pool;
  /** From the due time (CO-corrected), µs. */
  latency: hdr.Histogram;
  /** From the actual send, µs. */
  service: hdr.Histogram;
  errors: number;
  maxLagMs: number;
  /** p50 of each round, µs (from the due time). */
  roundP50: number[];
}

/** Send `rate` req/s to `t` for `seconds`, open-loop; record when `record`. */
async function drive(t: Target, rate: number, seconds: number, record: boolean): Promise<void> {
  const total = Math.round(rate * seconds);
  const intervalMs = 1000 / rate;
  const start = performance.now() + 5;
  let next = 0;
  const round = histogram();
  const inflight = new Set<Promise<void>>();
  const send = (dueMs: number) => {
    const sentMs = performance.now();
    if (record) t.maxLagMs = Math.max(t.maxLagMs, sentMs - dueMs);
    const p = t.pool
      .request({ path: '/', method: 'GET' })
      .then(async (r) => {
        await r.body.dump();
        const doneMs = performance.now();
        if (record) {
          const us = Math.max(1, Math.round((doneMs - dueMs) * 1000));
          t.latency.recordValue(us);
          round.recordValue(us);
          t.service.recordValue(Math.max(1, Math.round((doneMs - sentMs) * 1000)));
        }
      })
      .catch(() => {
        if (record) t.errors++;
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * intervalMs <= now) {
        send(start + next * intervalMs);
        next++;
      }
      if (next >= total) resolve();
      else setTimeout(tick, Math.max(0, start + next * intervalMs - performance.now()));
    };
    setTimeout(tick, 5);
  });
  await Promise.all(inflight);
  if (record) t.roundP50.push(round.getValueAtPercentile(50));
  round.destroy();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const ms = (us: number) => (us / 1000).toFixed(3);

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const loadBefore = loadavg()[0]!;
  const upstream = await startUpstream();
  const plain = await startProxy({ name: 'bench', upstream: { host: '127.0.0.1', port: upstream.port } });
  const chained = await startProxy({
    name: 'bench-toxic',
    upstream: { host: '127.0.0.1', port: upstream.port },
  });
  await chained.addToxic({ type: 'latency', stream: 'both', attributes: { latency: 0 } });
  const targets: Target[] = [
    ['direct', upstream.port],
    ['proxy, no toxic', plain.address.port],
    ['proxy, latency 0 toxic both ways', chained.address.port],
  ].map(([name, port]) => ({
    name: String(name),
    pool: new Pool(`http://127.0.0.1:${port}`, { connections: o.connections, pipelining: 1 }),
    latency: histogram(),
    service: histogram(),
    errors: 0,
    maxLagMs: 0,
    roundP50: [],
  }));
  try {
    for (const t of targets) await drive(t, o.rate, o.warmupS, false);
    for (let round = 0; round < o.rounds; round++) {
      for (const t of targets) await drive(t, o.rate, o.roundS, true);
    }
  } finally {
    for (const t of targets) await t.pool.close();
    await plain.stop();
    await chained.stop();
    upstream.stop();
  }

  const [direct] = targets;
  const paired = (t: Target) => median(t.roundP50.map((p, i) => p - direct!.roundP50[i]!));
  const d50 = direct!.latency.getValueAtPercentile(50);
  const d99 = direct!.latency.getValueAtPercentile(99);
  const lines = [
    `Node ${process.version}, ${o.rate} req/s open-loop, ${o.rounds} × ${o.roundS} s per target (interleaved), ` +
      `${o.connections} keep-alive connections, upstream in a child process; ` +
      `load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after.`,
    '',
    '| target | requests | errors | p50 ms | p99 ms | added p50 ms | paired added p50 ms | added p99 ms | p50 ratio | p99 ratio | service p50 ms | service p99 ms | max send lag ms |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const t of targets) {
    const p50 = t.latency.getValueAtPercentile(50);
    const p99 = t.latency.getValueAtPercentile(99);
    lines.push(
      `| ${t.name} | ${t.latency.totalCount} | ${t.errors} | ${ms(p50)} | ${ms(p99)} | ${ms(p50 - d50)} | ` +
        `${ms(paired(t))} | ${ms(p99 - d99)} | ` +
        `${(p50 / d50).toFixed(2)} | ${(p99 / d99).toFixed(2)} | ${ms(t.service.getValueAtPercentile(50))} | ` +
        `${ms(t.service.getValueAtPercentile(99))} | ${t.maxLagMs.toFixed(2)} |`,
    );
  }
  const added = (targets[1]!.latency.getValueAtPercentile(50) - d50) / 1000;
  const addedPaired = paired(targets[1]!) / 1000;
  const verdict = (x: number) => `${x <= 0.2 ? 'PASS' : 'FAIL'} (${x.toFixed(3)} ms)`;
  lines.push(
    '',
    `Acceptance, added p50 through the proxy with no toxic ≤ 0.2 ms: pooled ${verdict(added)}, paired ${verdict(addedPaired)}.`,
  );
  console.log(lines.join('\n'));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
