/**
 * What the overhead benchmarks share (`proxy-overhead.ts`, `load-balancer-overhead.ts`): open-loop load
 * at a constant rate against several targets in interleaved rounds, latency from each request's due
 * time (corrected for coordinated omission) and from its actual send, HDR histograms in µs, and one
 * Markdown table of each target against the first ("direct").
 *
 * Load is open-loop: request i is due at start + i/rate whatever happened before it. Short interleaved
 * rounds keep bursts of noise from other processes from landing on one target only; "paired added p50"
 * is the median over rounds of (target's p50 − direct's p50 in the same round), the estimate least moved
 * by such bursts. "max send lag" shows how late the scheduler was: when it is large, the machine was busy.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';

export interface Options {
  /** Requests per second. */
  rate: number;
  /** Length of one round per target, s. */
  roundS: number;
  rounds: number;
  /** Unrecorded warm-up per target, s. */
  warmupS: number;
  /** Keep-alive client connections per target. */
  connections: number;
}

/** `--rate 1000 --round-s 0.5 --rounds 40 --warmup-s 1 --connections 32`, over `defaults`. */
export function parseArgs(argv: string[], defaults: Options): Options {
  const o: Options = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    const value = Number(argv[i + 1]);
    if (!key || !(key in o) || !Number.isFinite(value)) throw new Error(`unknown or bad option: ${argv[i]}`);
    o[key as keyof Options] = value;
  }
  return o;
}

/** A minimal HTTP server in its own process answering `ok`; resolves with its port. */
export async function startOkServer(label: string): Promise<{ port: number; child: ChildProcess }> {
  const code = `
    const http = require('node:http');
    const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-length': 2 }); res.end('ok'); }); });
    s.keepAliveTimeout = 60000;
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (b: Buffer) => resolve(Number(b.toString().trim())));
    child.once('exit', (c) => reject(new Error(`${label} exited with ${c}`)));
  });
  return { port, child };
}

function histogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

export interface Target {
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
        if (r.statusCode !== 200) throw new Error(`status ${r.statusCode}`);
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

/**
 * Warm up, then drive every target in interleaved rounds; the first target is the baseline.
 * @returns the measured targets (their pools closed) and the paired added p50 of each, µs.
 */
export async function measure(
  endpoints: readonly { name: string; origin: string }[],
  o: Options,
): Promise<{ targets: Target[]; paired: (t: Target) => number }> {
  const targets: Target[] = endpoints.map(({ name, origin }) => ({
    name,
    pool: new Pool(origin, { connections: o.connections, pipelining: 1 }),
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
  }
  const direct = targets[0]!;
  return { targets, paired: (t) => median(t.roundP50.map((p, i) => p - direct.roundP50[i]!)) };
}

/** The results table (Markdown), each target against the first. `setup` says what ran where. */
export function table(
  targets: readonly Target[],
  paired: (t: Target) => number,
  o: Options,
  setup: string,
  loadBefore: number,
): string[] {
  const direct = targets[0]!;
  const d50 = direct.latency.getValueAtPercentile(50);
  const d99 = direct.latency.getValueAtPercentile(99);
  const lines = [
    `Node ${process.version}, ${o.rate} req/s open-loop, ${o.rounds} × ${o.roundS} s per target (interleaved), ` +
      `${o.connections} keep-alive connections, ${setup}; ` +
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
  return lines;
}
