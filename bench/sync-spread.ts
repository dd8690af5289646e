/**
 * How tightly does each sync mode release a burst? Arrival spread (max − min arrival time at the server
 * of one burst, ms) at `targets/probe`, for N requests, per mode, over BURSTS bursts: median and p90.
 *
 * Modes: the four burst senders (`naive`, `barrier`, `last-byte`, `single-packet`, via the registry the
 * burst executor uses; `last-byte` with its default release threads), `last-byte-1t` (last-byte from the
 * main thread alone), plus two baselines from outside whatbreaks: `undici-all` (what a test usually
 * does: `Promise.all` of N undici requests on a fresh Agent) and `autocannon` (`connections: N, amount: N`).
 *
 * Build and run (see bench/README.md):
 *   npx tsc -p bench/tsconfig.json && node dist/bench/sync-spread.js [--n 2,20,30,200] [--bursts 20]
 *   node dist/bench/sync-spread.js --once last-byte --n 30 --port 4650   # one burst, for capture-spread
 *   node dist/bench/sync-spread.js --modes naive,last-byte --balancer in-process   # through the balancer
 *   node dist/bench/sync-spread.js --modes barrier,last-byte --warmup off   # fresh connections, no warm-up
 *
 * The probe runs in its own process (started here unless --port names a running one) so the sender and
 * the receiver never share an event loop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import { startLoadBalancer } from '../src/env/load-balancer.js';
import { senderFor } from '../src/load/burst/registry.js';
import type { SyncMode, WarmupMode } from '../src/load/burst/sender.js';
import type { PreparedRequest } from '../src/load/types.js';

const SENDER_MODES: SyncMode[] = ['naive', 'barrier', 'last-byte', 'single-packet'];
/** `last-byte-1t`: last-byte with one release thread, beside `last-byte`'s default (`auto`). */
const ALL_MODES = [...SENDER_MODES, 'last-byte-1t', 'undici-all', 'autocannon'] as const;
type Mode = (typeof ALL_MODES)[number];

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '2,20,30,200' },
    bursts: { type: 'string', default: '20' },
    modes: { type: 'string', default: ALL_MODES.join(',') },
    port: { type: 'string' },
    once: { type: 'string' },
    'hold-ms': { type: 'string', default: '50' },
    'streams-per-connection': { type: 'string', default: '25' },
    'release-threads': { type: 'string', default: 'auto' },
    balancer: { type: 'string', default: 'none' },
    warmup: { type: 'string', default: 'auto' },
  },
});

const holdMs = Number(values['hold-ms']);
const streamsPerConnection = Number(values['streams-per-connection']);
const releaseThreads = values['release-threads'] === 'auto' ? 'auto' : Number(values['release-threads']);
const warmup = values.warmup as WarmupMode;

function burstRequests(n: number): PreparedRequest[] {
  return Array.from({ length: n }, (_, i) => ({
    index: i,
    method: 'POST',
    path: `/burst/${i}`,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ n: i })),
  }));
}

/** Run one burst of `mode` with N requests against `base`; the client's send spread (ms) if known. */
async function oneBurst(mode: Mode, base: URL, n: number): Promise<number | undefined> {
  const requests = burstRequests(n);
  if (mode === 'undici-all') {
    const agent = new Agent({ connections: n });
    try {
      await Promise.all(
        requests.map(async (r) => {
          const res = await request(new URL(r.path, base), {
            method: 'POST',
            headers: r.headers,
            body: r.body,
            dispatcher: agent,
          });
          await res.body.dump();
        }),
      );
    } finally {
      await agent.close();
    }
    return undefined;
  }
  if (mode === 'autocannon') {
    await autocannon({
      url: new URL('/burst/ac', base).href,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"n":0}',
      connections: n,
      amount: n,
    });
    return undefined;
  }
  const sender = senderFor(mode === 'last-byte-1t' ? 'last-byte' : mode)({
    baseUrl: base,
    clock: () => performance.now(),
    timeoutMs: 10_000,
    warmupPath: '/health',
    holdMs,
    streamsPerConnection,
    releaseThreads: mode === 'last-byte-1t' ? 1 : releaseThreads,
    warmup,
  });
  try {
    await sender.prepare(requests);
    const { records, sendSpreadMs } = await sender.release();
    const failed = records.filter((r) => r.status !== 200);
    if (failed.length)
      throw new Error(`${mode}: ${failed.length} requests failed, e.g. ${JSON.stringify(failed[0])}`);
    return sendSpreadMs;
  } finally {
    await sender.close();
  }
}

interface ProbeArrivals {
  count: number;
  dataSpreadMs: number;
}

async function probeJson<T>(base: URL, path: string, method = 'GET'): Promise<T> {
  const res = await request(new URL(path, base), { method });
  return (await res.body.json()) as T;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

async function startProbe(port: number): Promise<ChildProcess> {
  const here = dirname(fileURLToPath(import.meta.url));
  const server = join(here, '..', 'targets', 'probe', 'server.js');
  const child = spawn(process.execPath, [server], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`probe exited with ${code}`)));
    child.stdout!.once('data', () => resolve());
  });
  return child;
}

async function main(): Promise<void> {
  const ns = values.n.split(',').map(Number);
  const modes = values.modes.split(',') as Mode[];
  const port = Number(values.port ?? 4650);
  const base = new URL(`http://127.0.0.1:${port}`);

  if (values.once) {
    await oneBurst(values.once as Mode, base, ns[0]!);
    return;
  }
  const probe = values.port ? undefined : await startProbe(port);
  // `--balancer in-process|process`: bursts go through the built-in load balancer over the probe, hosted
  // in this process (as whatbreaks hosts it) or in a process of its own.
  let stopBalancer = async () => {};
  if (values.balancer === 'in-process') {
    const lb = await startLoadBalancer({ upstreams: [{ id: 0, url: new URL(base) }] });
    stopBalancer = () => lb.stop();
    base.port = lb.url.port;
  } else if (values.balancer === 'process') {
    const here = dirname(fileURLToPath(import.meta.url));
    const lbModule = pathToFileURL(join(here, '..', 'src', 'env', 'load-balancer.js')).href;
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { startLoadBalancer } = await import(${JSON.stringify(lbModule)}); const lb = await startLoadBalancer({ upstreams: [{ id: 0, url: new URL(${JSON.stringify(base.href)}) }] }); console.log(lb.url.port);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    base.port = await new Promise<string>((resolve) =>
      child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())),
    );
    stopBalancer = async () => void child.kill('SIGTERM');
  }
  const bursts = Number(values.bursts);
  const rows: string[] = [];
  try {
    for (const n of ns) {
      for (const mode of modes) {
        const data: number[] = [];
        const send: number[] = [];
        for (let b = 0; b < bursts; b++) {
          await probeJson(base, '/__probe/reset', 'POST');
          const sendSpread = await oneBurst(mode, base, n);
          if (sendSpread !== undefined) send.push(sendSpread);
          await sleep(20); // let the probe finish handling before asking
          const a = await probeJson<ProbeArrivals>(base, '/__probe/arrivals');
          if (a.count !== n) throw new Error(`${mode} N=${n}: probe saw ${a.count} requests`);
          data.push(a.dataSpreadMs);
        }
        data.sort((x, y) => x - y);
        send.sort((x, y) => x - y);
        const f = (x: number) => (Number.isNaN(x) ? '–' : x.toFixed(3));
        const row = `| ${n} | ${mode} | ${f(quantile(data, 0.5))} | ${f(quantile(data, 0.9))} | ${f(quantile(send, 0.5))} |`;
        rows.push(row);
        console.error(row);
      }
    }
  } finally {
    await stopBalancer();
    probe?.kill('SIGTERM');
  }
  console.log(
    `arrival spread at targets/probe${values.balancer === 'none' ? '' : ` through the load balancer (${values.balancer})`}, ms, over ${bursts} bursts (holdMs ${holdMs}, ${streamsPerConnection} streams per h2 connection, last-byte release threads ${releaseThreads}, warmup ${warmup}, ${availableParallelism()} cores); send spread: the client's first to last release write`,
  );
  console.log('| N | mode | socket-read median | socket-read p90 | send median |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

await main();
