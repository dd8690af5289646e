import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncMode } from '../src/load/burst/sender.js';
import { type BurstConfig, config, create } from '../src/load/burst.js';
import type { LoadResult } from '../src/load/types.js';
import { startGunicorn, startHttp10, type TestServer } from './fixtures/burst/servers.js';

/**
 * Every sync mode against real HTTP/1.x servers that behave differently from the example targets: it
 * completes the burst with each request's own response, or fails with a `BurstFailure` whose message
 * names the phase and whose hint names a mode that works. Python's `http.server` (HTTP/1.0, closes every
 * connection; threading and single-threaded), gunicorn's default `sync` worker (closes after every
 * response) and `gthread` worker (4 × 8 threads: 200 requests on two release threads timed out before the
 * phases had a barrier between them), and Node's `http` (keep-alive, HTTP/1.1 only).
 */

/** Run one burst through the executor; the load result, or the error it threw. */
async function burst(url: URL, cfg: Partial<BurstConfig> & { sync: SyncMode; requests: number }) {
  const parsed = config.parse({
    type: 'burst',
    holdMs: 50,
    timeoutMs: 15_000,
    request: { method: 'POST', path: '/b/{{i}}', headers: { 'content-type': 'text/plain' }, body: 'r{{i}}' },
    ...cfg,
  });
  const t0 = performance.now();
  return create(parsed)
    .run({
      baseUrl: url,
      clock: () => performance.now() - t0,
      signal: new AbortController().signal,
      healthPath: '/health',
      render: (i) => ({
        index: i,
        method: 'POST',
        path: `/b/${i}`,
        headers: { 'content-type': 'text/plain' },
        body: Buffer.from(`r${i}`),
      }),
    })
    .catch((err: unknown) => err as Error & { code?: string; hint?: string; phase?: string });
}

/** Every request answered 200 with its own echo (`POST /b/<i> r<i>`), in order. */
function expectEveryEcho(result: LoadResult | Error, n: number): LoadResult {
  expect(result).not.toBeInstanceOf(Error);
  const load = result as LoadResult;
  expect(
    load.records.map((r) => [r.index, r.error ?? r.status, /^POST \/b\/\d+ r\d+/.exec(r.body ?? '')?.[0]]),
  ).toEqual(Array.from({ length: n }, (_, i) => [i, 200, `POST /b/${i} r${i}`]));
  return load;
}

const NOT_KEPT_ALIVE =
  /^the target closes the connection after GET \/health \(no keep-alive\): \d+\/\d+ requests were (pre-)?sent on fresh connections/;

function expectNoH2(result: LoadResult | Error) {
  expect(result).toMatchObject({
    code: 'H2_NOT_SUPPORTED',
    phase: 'warm-up',
    message: expect.stringContaining('it does not speak HTTP/2'),
    hint: expect.stringContaining('use sync: last-byte'),
  });
}

describe.each([
  ['http.server (ThreadingHTTPServer, HTTP/1.0)', () => startHttp10('threading')],
  ['gunicorn, default sync worker', () => startGunicorn([])],
])('%s: closes every connection', (_name, start) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => server?.stop());

  it('naive completes', async () => {
    expectEveryEcho(await burst(server.url, { sync: 'naive', requests: 20 }), 20);
  });

  it.each(['barrier', 'last-byte'] as const)(
    '%s completes on fresh connections, with a warning',
    async (sync) => {
      const load = expectEveryEcho(await burst(server.url, { sync, requests: 20 }), 20);
      expect(load.warnings).toEqual([expect.stringMatching(NOT_KEPT_ALIVE)]);
    },
  );

  it('last-byte with warmup: on fails in warm-up, the hint naming warmup: auto', async () => {
    expect(await burst(server.url, { sync: 'last-byte', requests: 4, warmup: 'on' })).toMatchObject({
      code: 'WARMUP_NOT_KEEPALIVE',
      phase: 'warm-up',
      hint: expect.stringContaining('load.warmup: auto'),
    });
  });

  it('single-packet fails: no HTTP/2, the hint naming last-byte', async () => {
    expectNoH2(await burst(server.url, { sync: 'single-packet', requests: 4 }));
  });
});

describe('http.server, single-threaded HTTPServer (one connection at a time, listen backlog 5)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startHttp10('serial');
  });
  afterAll(async () => server?.stop());

  it('naive completes', async () => {
    expectEveryEcho(await burst(server.url, { sync: 'naive', requests: 12 }), 12);
  });

  // The server blocks reading the first held connection; its backlog fills and no further one opens.
  it.each([
    ['barrier', 'connect', /^in connect: \d+\/12 fresh connections open after 4000 ms$/],
    [
      'last-byte',
      'pre-send',
      /^in pre-send: \d+\/12 requests pre-sent \(12 on fresh connections, \d+ of them open\) after 4000 ms$/,
    ],
  ] as const)('%s times out in %s, the hint naming sync: naive', async (sync, phase, message) => {
    const result = await burst(server.url, { sync, requests: 12, timeoutMs: 4_000 });
    expect(result).toMatchObject({
      code: 'TIMEOUT',
      phase,
      hint: expect.stringContaining('use sync: naive'),
    });
    expect((result as Error).message).toMatch(message);
  });

  it('single-packet fails: no HTTP/2, the hint naming last-byte', async () => {
    expectNoH2(await burst(server.url, { sync: 'single-packet', requests: 4 }));
  });
});

describe('gunicorn gthread, 4 workers × 8 threads (keep-alive)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startGunicorn(['--worker-class', 'gthread', '--workers', '4', '--threads', '8']);
  });
  afterAll(async () => server?.stop());

  it('last-byte, 200 requests on two release threads: three bursts complete, on warm connections', async () => {
    for (let b = 0; b < 3; b++) {
      const load = expectEveryEcho(
        await burst(server.url, { sync: 'last-byte', requests: 200, releaseThreads: 2 }),
        200,
      );
      expect(load.warnings).toEqual([]);
    }
  });

  it.each(['naive', 'barrier'] as const)('%s, 200 requests, completes', async (sync) => {
    expect(expectEveryEcho(await burst(server.url, { sync, requests: 200 }), 200).warnings).toEqual([]);
  });

  it('single-packet fails: no HTTP/2, the hint naming last-byte', async () => {
    expectNoH2(await burst(server.url, { sync: 'single-packet', requests: 4 }));
  });
});

describe("Node's http server (HTTP/1.1, keep-alive)", () => {
  let server: Server;
  let url: URL;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () =>
        res.end(req.url === '/health' ? 'ok' : `${req.method} ${req.url} ${Buffer.concat(chunks)}`),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it.each(['naive', 'barrier', 'last-byte'] as const)('%s completes, on warm connections', async (sync) => {
    expect(expectEveryEcho(await burst(url, { sync, requests: 30 }), 30).warnings).toEqual([]);
  });

  it('single-packet fails: no HTTP/2, the hint naming last-byte', async () => {
    expectNoH2(await burst(url, { sync: 'single-packet', requests: 4 }));
  });
});
