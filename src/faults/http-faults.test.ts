import { once } from 'node:events';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type StartedHttpFaultProxy, startHttpFaultProxy } from './http-faults.js';
import { Cleanups, sleep } from './test-support.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

/** Upstream: `?delay=ms` waits, `?size=n` answers n bytes (default `ok`), POST echoes the body. */
async function upstream() {
  const seen: { method: string; path: string; body: string }[] = [];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    seen.push({ method: req.method ?? '', path: req.url ?? '', body });
    const delay = Number(url.searchParams.get('delay') ?? 0);
    if (delay) await sleep(delay);
    if (res.destroyed) return;
    const size = url.searchParams.get('size');
    const out = size ? Buffer.alloc(Number(size), 'a') : Buffer.from(body || 'ok');
    res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': 'yes', 'content-length': out.length });
    res.end(out);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  cleanups.defer(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${port}`, seen, port };
}

async function setup(seed?: number) {
  const up = await upstream();
  const t0 = performance.now();
  const proxy = cleanups.add(
    await startHttpFaultProxy({
      name: 'payments',
      upstream: up.url,
      seed,
      clock: () => performance.now() - t0,
    }),
  );
  const agent = new Agent({ connections: 100 });
  cleanups.defer(() => agent.destroy());
  const get = async (
    path: string,
    opts: { method?: 'GET' | 'POST'; body?: string; headers?: Record<string, string> } = {},
  ) => {
    try {
      const r = await request(new URL(path, proxy.url), { dispatcher: agent, ...opts });
      return { status: r.statusCode, body: await r.body.text(), headers: r.headers };
    } catch (e) {
      return { error: (e as { code?: string }).code ?? String(e) };
    }
  };
  return { up, proxy, get };
}

async function waitInFlight(proxy: StartedHttpFaultProxy, n: number): Promise<void> {
  while (proxy.inFlightCount < n) await sleep(5);
}

describe('http fault proxy', () => {
  it('forwards method, path, headers and body, and records the request', async () => {
    const { up, proxy, get } = await setup();
    const r = await get('/api/pay?x=1', { method: 'POST', body: 'hello', headers: { 'x-request-id': 'r1' } });
    expect(r).toMatchObject({ status: 200, body: 'hello' });
    expect((r as { headers: Record<string, unknown> }).headers['x-upstream']).toBe('yes');
    expect(up.seen).toEqual([{ method: 'POST', path: '/api/pay?x=1', body: 'hello' }]);
    const [rec] = proxy.records();
    expect(rec).toMatchObject({ seq: 1, method: 'POST', path: '/api/pay?x=1', status: 200, outcome: 'ok' });
    expect(rec!.headers).toEqual({ 'x-request-id': 'r1' });
    expect(rec!.fault).toBeUndefined();
    expect(rec!.atMs).toBeGreaterThanOrEqual(0);
    expect(rec!.endMs!).toBeGreaterThanOrEqual(rec!.atMs);
  });

  it('status: answers the first N itself, then forwards again', async () => {
    const { up, proxy, get } = await setup();
    proxy.setFault({ type: 'status', status: 503, body: 'down for maintenance', first: 3 });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await get(`/r${i}`));
    expect(results.map((r) => ('status' in r ? r.status : r.error))).toEqual([503, 503, 503, 200, 200, 200]);
    expect(results[0]).toMatchObject({ body: 'down for maintenance' });
    expect(up.seen.map((s) => s.path)).toEqual(['/r3', '/r4', '/r5']);
    expect(proxy.records().map((r) => r.fault ?? null)).toEqual([
      'status',
      'status',
      'status',
      null,
      null,
      null,
    ]);
    expect(proxy.recordCount).toBe(6);
    expect(proxy.records(4).map((r) => r.seq)).toEqual([5, 6]);
  });

  it('status with a probability hits about that fraction, replayably', async () => {
    async function run(seed: number) {
      const { proxy, get, up } = await setup(seed);
      proxy.setFault({ type: 'status', status: 500, probability: 0.3 });
      const statuses: number[] = [];
      for (let i = 0; i < 200; i++) {
        const r = await get('/p');
        statuses.push('status' in r ? r.status! : 0);
      }
      return { statuses, upstreamSaw: up.seen.length };
    }
    const a = await run(3);
    const failed = a.statuses.filter((s) => s === 500).length;
    expect(failed / 200).toBeGreaterThan(0.2);
    expect(failed / 200).toBeLessThan(0.4);
    expect(a.upstreamSaw).toBe(200 - failed);
    expect((await run(3)).statuses).toEqual(a.statuses);
  });

  it('abort after N body bytes: the client sees an error, the record says aborted after a 200', async () => {
    const { up, proxy, get } = await setup();
    proxy.setFault({ type: 'abort', afterBytes: 10 });
    const r = await get('/big?size=100000');
    expect(r).toHaveProperty('error');
    expect(up.seen).toHaveLength(1);
    const [rec] = proxy.records();
    expect(rec).toMatchObject({ status: 200, outcome: 'aborted', fault: 'abort' });
  });

  it('abort before headers: the upstream did the work, the client never hears', async () => {
    const { up, proxy, get } = await setup();
    proxy.setFault({ type: 'abort', reset: true });
    const r = await get('/charge', { method: 'POST', body: 'x' });
    expect(r).toHaveProperty('error');
    expect(up.seen).toHaveLength(1);
    expect(proxy.records()[0]).toMatchObject({ outcome: 'reset', fault: 'abort' });
    expect(proxy.records()[0]!.status).toBeUndefined();
  });

  it('delay: holds each request at least delayMs', async () => {
    const { proxy, get } = await setup();
    proxy.setFault({ type: 'delay', delayMs: 200 });
    const t0 = performance.now();
    expect(await get('/slow')).toMatchObject({ status: 200 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(200);
    proxy.clearFault();
    expect(proxy.fault).toBeUndefined();
  });

  it('onStart fail-in-flight: every request in flight gets the status at once', async () => {
    const { proxy, get } = await setup();
    const pending = Array.from({ length: 20 }, (_, i) => get(`/w${i}?delay=2000`));
    await waitInFlight(proxy, 20);
    proxy.setFault({ type: 'status', status: 503, onStart: 'fail-in-flight' });
    const results = await Promise.all(pending);
    expect(results.map((r) => ('status' in r ? r.status : r.error))).toEqual(Array(20).fill(503));
    expect(proxy.records().every((r) => r.hitInFlight && r.fault === 'status')).toBe(true);
    expect(await get('/after')).toMatchObject({ status: 503 });
  });

  it('onStart reset-in-flight: every request in flight fails with a reset', async () => {
    const { proxy, get } = await setup();
    const pending = Array.from({ length: 20 }, (_, i) => get(`/w${i}?delay=2000`));
    await waitInFlight(proxy, 20);
    proxy.setFault({ type: 'status', status: 503, onStart: 'reset-in-flight' });
    const results = await Promise.all(pending);
    expect(results.every((r) => 'error' in r)).toBe(true);
    expect(proxy.records().map((r) => r.outcome)).toEqual(Array(20).fill('reset'));
  });

  it('onStart let-finish: requests in flight complete, new ones get the fault', async () => {
    const { proxy, get } = await setup();
    const pending = Array.from({ length: 10 }, (_, i) => get(`/w${i}?delay=300`));
    await waitInFlight(proxy, 10);
    proxy.setFault({ type: 'status', status: 503 });
    expect(await get('/new')).toMatchObject({ status: 503 });
    const results = await Promise.all(pending);
    expect(results.map((r) => ('status' in r ? r.status : r.error))).toEqual(Array(10).fill(200));
  });

  it('limits a fault to a path prefix, answers 502 when the upstream is down, rejects bad faults', async () => {
    const { proxy, get } = await setup();
    proxy.setFault({ type: 'status', status: 429, pathPrefix: '/api/' });
    expect(await get('/api/x')).toMatchObject({ status: 429 });
    expect(await get('/health')).toMatchObject({ status: 200 });
    expect(() => proxy.setFault({ type: 'status', status: 503, first: 1, probability: 0.5 })).toThrow(
      /not both/,
    );
    // biome-ignore lint/suspicious/noExplicitAny: deliberately invalid input
    expect(() => proxy.setFault({ type: 'delay', delayMs: 5, onStart: 'fail-in-flight' } as any)).toThrow(
      /invalid http fault/,
    );

    const dead = cleanups.add(await startHttpFaultProxy({ name: 'dead', upstream: 'http://127.0.0.1:1' }));
    const r = await request(new URL('/x', dead.url));
    expect(r.statusCode).toBe(502);
    await r.body.text();
    expect(dead.records()[0]).toMatchObject({ outcome: 'upstream-error', status: 502 });
  });
});
