/**
 * Load generators against one fast target (a `node:http` server answering `ok\n`, in its own process:
 * `test/fixtures/stall-server.mjs`):
 *
 * 1. Closed model, same target, same connections, same duration: our `closed-model` executor vs
 *    autocannon called directly vs wrk (Debian package `wrk`, `-t1`). Requests/s and latency, with
 *    ratios to wrk.
 * 2. Open model (`constant-arrival-rate`) at `--rate` req/s for `--duration-ms`: achieved rate against
 *    the target rate, send lag (actual − intended send time) p50/p99/max, late sends (> 1 ms).
 * 3. Coordinated omission, wrk2's README demonstration: the same open model against the same server
 *    stalling once for `--stall-ms`; corrected (from intended send) vs uncorrected (from actual send)
 *    latency.
 *
 * Build and run:
 *   npx tsc -p bench/tsconfig.json && node dist/bench/throughput.js [--connections 50] [--duration-ms 10000]
 *     [--rate 2000] [--stall-ms 1000]
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import * as closed from '../src/load/closed-model.js';
import * as open from '../src/load/constant-arrival-rate.js';
import type { LoadResult } from '../src/load/types.js';

const ROOT = join(import.meta.dirname, '..', '..');
const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '50' },
    'duration-ms': { type: 'string', default: '10000' },
    rate: { type: 'string', default: '2000' },
    'stall-ms': { type: 'string', default: '1000' },
  },
});
const connections = Number(values.connections);
const durationMs = Number(values['duration-ms']);
const rate = Number(values.rate);
const stallMs = Number(values['stall-ms']);

async function startServer(env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [join(ROOT, 'test/fixtures/stall-server.mjs')], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  let text = '';
  for await (const chunk of child.stdout!) {
    text += String(chunk);
    const m = /listening (\d+)/.exec(text);
    if (m) {
      return {
        url: new URL(`http://127.0.0.1:${m[1]}`),
        stop: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      };
    }
  }
  throw new Error('server did not start');
}

function ctx(url: URL) {
  const t0 = performance.now();
  return {
    baseUrl: url,
    clock: () => performance.now() - t0,
    signal: new AbortController().signal,
    healthPath: '/health',
    render: (i: number) => ({ index: i, method: 'GET', path: '/x', headers: {} }),
  };
}

interface Row {
  tool: string;
  reqPerSec: number;
  p50: number;
  p99: number;
}

async function closedModel(url: URL): Promise<Row> {
  const load: LoadResult = await closed
    .create(closed.config.parse({ type: 'closed-model', connections, durationMs, request: { path: '/x' } }))
    .run(ctx(url));
  const a = load.aggregate!;
  return { tool: 'whatbreaks closed-model', reqPerSec: a.ratePerSec, p50: a.latency.p50, p99: a.latency.p99 };
}

async function autocannonDirect(url: URL): Promise<Row> {
  const r = await autocannon({ url: new URL('/x', url).href, connections, duration: durationMs / 1000 });
  return {
    tool: 'autocannon (direct)',
    reqPerSec: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
  };
}

function wrk(url: URL): Row {
  const out = execFileSync(
    'wrk',
    ['-t1', `-c${connections}`, `-d${Math.round(durationMs / 1000)}s`, '--latency', new URL('/x', url).href],
    { encoding: 'utf8' },
  );
  const ms = (s: string) => {
    const m = /([\d.]+)(us|ms|s)/.exec(s);
    if (!m) return Number.NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  return {
    tool: 'wrk -t1',
    reqPerSec: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50: ms(/50%\s+(\S+)/.exec(out)?.[1] ?? ''),
    p99: ms(/99%\s+(\S+)/.exec(out)?.[1] ?? ''),
  };
}

async function openModel(url: URL) {
  return open
    .create(
      open.config.parse({
        type: 'constant-arrival-rate',
        rate,
        durationMs,
        preAllocatedConnections: 20,
        maxConnections: 200,
        request: { path: '/x' },
      }),
    )
    .run(ctx(url));
}

const fast = await startServer();
try {
  const rows: Row[] = [];
  for (const f of [closedModel, autocannonDirect]) rows.push(await f(fast.url));
  rows.push(wrk(fast.url));
  const base = rows.find((r) => r.tool.startsWith('wrk'))!.reqPerSec;
  console.log(`\n### Closed model: ${connections} connections, ${durationMs} ms, GET /x (3-byte body)\n`);
  console.log('| tool | req/s | ratio to wrk | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.tool} | ${Math.round(r.reqPerSec)} | ${(r.reqPerSec / base).toFixed(2)} | ${r.p50} | ${r.p99} |`,
    );
  }

  const o = (await openModel(fast.url)).openModel!;
  console.log(
    `\n### Open model: constant-arrival-rate ${rate} req/s for ${durationMs} ms (20 pre-allocated, ≤ 200 connections)\n`,
  );
  console.log(
    '| scheduled | sent | achieved req/s | rate error | late (> 1 ms) | send lag p50 / p99 / max ms | connections |',
  );
  console.log('|---:|---:|---:|---:|---:|---|---:|');
  console.log(
    `| ${o.scheduled} | ${o.sent} | ${o.achievedRatePerSec} | ${(((o.achievedRatePerSec - rate) / rate) * 100).toFixed(2)}% | ${o.late} (${((o.late / o.sent) * 100).toFixed(2)}%) | ${o.sendLagMs.p50} / ${o.sendLagMs.p99} / ${o.sendLagMs.max} | ${o.connections} |`,
  );
} finally {
  await fast.stop();
}

const stalling = await startServer({
  STALL_AT_MS: String(Math.round(durationMs / 3)),
  STALL_MS: String(stallMs),
});
try {
  const load = await openModel(stalling.url);
  const o = load.openModel!;
  console.log(`\n### Coordinated omission: the same open model, target stalls once for ${stallMs} ms\n`);
  console.log('| latency | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |\n|---|---:|---:|---:|---:|---:|');
  for (const [name, s] of [
    ['corrected (from intended send)', o.latencyCorrected],
    ['uncorrected (from actual send)', o.latencyUncorrected],
  ] as const) {
    console.log(`| ${name} | ${s.p50} | ${s.p90} | ${s.p99} | ${s.p999} | ${s.max} |`);
  }
  console.log(
    `\nsends that waited for a connection: ${o.waitedForConnection}; dropped: ${o.dropped}; connections: ${o.connections}`,
  );
  for (const w of load.warnings) console.log(`warning: ${w}`);
} finally {
  await stalling.stop();
}
