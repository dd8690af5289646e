import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedDependencies, startDependencies } from '../../env/dependencies.js';
import { dependencySchema } from '../../env/dependencies-schema.js';
import { pendingCleanups } from '../../env/teardown.js';
import type { Fault, FaultContext, FaultEnvironment } from '../fault.js';
import * as httpFault from './http-fault.js';
import * as toxic from './toxic.js';
import * as upstreamDown from './upstream-down.js';

/**
 * The proxy faults against real dependency processes behind real proxies (`startDependencies`): one
 * HTTP service behind the HTTP fault proxy, one behind the TCP proxy. `?delay=ms` makes it answer late.
 */
const SERVICE = `
const http = require('node:http');
const s = http.createServer((req, res) => {
  const delay = Number(new URL(req.url, 'http://x').searchParams.get('delay') || 0);
  req.resume();
  setTimeout(() => res.end('ok'), delay);
});
s.listen(Number(process.env.PORT), '127.0.0.1');`;

const logs = mkdtempSync(join(tmpdir(), 'whatbreaks-faults-'));
let deps: StartedDependencies;
beforeAll(async () => {
  const spec = (name: string, proxy: 'http' | 'tcp') => ({
    name,
    ...dependencySchema.parse({ command: [process.execPath, '-e', SERVICE], health: { path: '/' }, proxy }),
  });
  deps = await startDependencies({
    specs: [spec('upstream', 'http'), spec('stock', 'tcp')],
    logsDir: logs,
    freePort: () => getPort({ host: '127.0.0.1' }),
  });
});
afterAll(async () => {
  await deps?.stop();
  rmSync(logs, { recursive: true, force: true });
  expect(pendingCleanups()).toEqual([]);
});

function context(notes: string[]): FaultContext {
  return {
    env: { dependencies: deps } as unknown as FaultEnvironment,
    clock: () => performance.now(),
    signal: new AbortController().signal,
    note: (d) => notes.push(d),
    startsNow: () => undefined,
  };
}

async function call(dep: string, path = '/'): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  const res = await request(new URL(path, deps.get(dep)!.url));
  await res.body.dump();
  return { status: res.statusCode, ms: performance.now() - t0 };
}

async function apply(fault: Fault, notes: string[] = []) {
  const revert = await fault.apply(context(notes));
  expect(revert).toBeTypeOf('function');
  return revert!;
}

describe('proxy faults on started dependencies', () => {
  it('gives the target the proxies, not the processes', () => {
    expect(deps.targetEnv).toEqual({
      UPSTREAM_URL: deps.get('upstream')!.http!.url.origin,
      STOCK_URL: `http://127.0.0.1:${deps.get('stock')!.tcp!.address.port}`,
    });
    expect(deps.get('upstream')!.url.port).not.toBe(deps.get('upstream')!.process!.url.port);
  });

  it('upstream-down fails the calls in flight at once, answers 503 while on, and is reverted', async () => {
    const inFlight = call('upstream', '/?delay=5000');
    while (deps.get('upstream')!.http!.inFlightCount === 0) await new Promise((r) => setTimeout(r, 10));
    const notes: string[] = [];
    const revert = await apply(
      upstreamDown.create(upstreamDown.config.parse({ type: 'upstream-down', at: 0 })),
      notes,
    );
    // Answered by the outage, not by the upstream.
    expect(await inFlight).toMatchObject({ status: 503 });
    expect(deps.get('upstream')!.http!.records().at(-1)).toMatchObject({
      path: '/?delay=5000',
      outcome: 'fault',
      hitInFlight: true,
    });
    expect(notes[0]).toBe('status 503 to every request; fail-in-flight: 1 in flight');
    expect((await call('upstream')).status).toBe(503);
    await revert();
    expect((await call('upstream')).status).toBe(200);
  });

  it('http-fault sets any HTTP fault, e.g. a status for the first N calls', async () => {
    const revert = await apply(
      httpFault.create(
        httpFault.config.parse({
          type: 'http-fault',
          at: 0,
          dependency: 'upstream',
          fault: { type: 'status', status: 429, first: 2 },
        }),
      ),
    );
    expect([
      (await call('upstream')).status,
      (await call('upstream')).status,
      (await call('upstream')).status,
    ]).toEqual([429, 429, 200]);
    await revert();
  });

  it('toxic adds a Toxiproxy toxic to a TCP proxy and removes it', async () => {
    const notes: string[] = [];
    const revert = await apply(
      toxic.create(
        toxic.config.parse({
          type: 'toxic',
          at: 0,
          proxy: 'stock',
          toxic: { type: 'latency', attributes: { latency: 300 } },
        }),
      ),
      notes,
    );
    expect(
      deps
        .get('stock')!
        .tcp!.listToxics()
        .map((t) => t.name),
    ).toEqual(['latency_downstream']);
    expect((await call('stock')).ms).toBeGreaterThanOrEqual(295);
    await revert();
    expect(deps.get('stock')!.tcp!.listToxics()).toEqual([]);
    expect(notes).toEqual(['latency_downstream: {"latency":300,"jitter":0} (toxicity 1)', 'removed']);
  });

  it('a fault on the wrong kind of proxy fails with the proxies that exist', async () => {
    const f = toxic.create(
      toxic.config.parse({
        type: 'toxic',
        at: 0,
        proxy: 'upstream',
        toxic: { type: 'latency', attributes: { latency: 1 } },
      }),
    );
    await expect(f.apply(context([]))).rejects.toThrow(
      "no TCP fault proxy named 'upstream' (proxies: upstream: http, stock: tcp)",
    );
  });
});
