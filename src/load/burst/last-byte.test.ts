import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PreparedRequest } from '../types.js';
import { lastByte, releaseThreadCount, splitEvenly } from './last-byte.js';
import { serializeRequest } from './raw-http1.js';
import type { SenderOptions } from './sender.js';

/**
 * A raw TCP target: answers the warm-up GET, then collects each connection's request bytes without
 * answering until `reply` says so, so the test can look at exactly what arrived before release.
 */
interface RawTarget {
  server: Server;
  url: URL;
  /** Bytes received after the warm-up, per request index (from the `x-i` header). */
  received: Map<number, Buffer>;
  sockets: Socket[];
}

type Reply = (index: number, bytes: Buffer, socket: Socket) => void;

/** Test-only self-signed certificate for 127.0.0.1 (openssl, P-256, valid to 2126). */
const tlsFixture = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/tls/${name}`, import.meta.url));

async function rawTarget(expected: Map<number, Buffer>, reply: Reply, secure = false): Promise<RawTarget> {
  const received = new Map<number, Buffer>();
  const sockets: Socket[] = [];
  const onConnection = (socket: Socket) => {
    sockets.push(socket);
    let buf = Buffer.alloc(0);
    let warmed = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (!warmed) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        expect(buf.subarray(0, end).toString()).toMatch(/^GET \/warm HTTP\/1\.1\r\nhost: /);
        buf = buf.subarray(end + 4);
        warmed = true;
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }
      const m = /x-i: (\d+)/.exec(buf.toString('latin1'));
      if (!m) return;
      const index = Number(m[1]);
      received.set(index, buf);
      if (buf.length === expected.get(index)?.length) reply(index, buf, socket);
    });
  };
  // With TLS, `data` carries the decrypted bytes: what the target's HTTP parser would see.
  const server = secure
    ? createTlsServer(
        { key: tlsFixture('key.pem'), cert: tlsFixture('cert.pem'), ALPNProtocols: ['http/1.1'] },
        onConnection,
      )
    : createServer(onConnection);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, url: new URL(`${secure ? 'https' : 'http'}://127.0.0.1:${port}`), received, sockets };
}

function options(url: URL, over: Partial<SenderOptions> = {}): SenderOptions {
  return {
    baseUrl: url,
    clock: () => performance.now(),
    timeoutMs: 5_000,
    warmupPath: '/warm',
    holdMs: 0,
    streamsPerConnection: 25,
    ...over,
  };
}

const requests: PreparedRequest[] = Array.from({ length: 6 }, (_, i) => ({
  index: i,
  method: i % 2 === 0 ? 'POST' : 'GET',
  path: `/api/thing/${i}`,
  headers: { 'x-i': String(i), 'content-type': 'application/json' },
  body: i % 2 === 0 ? Buffer.from(JSON.stringify({ n: i })) : undefined,
}));

/** OS threads of this process (Linux), else undefined. */
function osThreads(): number | undefined {
  return existsSync('/proc/self/task') ? readdirSync('/proc/self/task').length : undefined;
}

describe('last-byte sender', () => {
  let target: RawTarget | undefined;
  afterEach(async () => {
    for (const s of target?.sockets ?? []) s.destroy();
    await new Promise<void>((r) => (target ? target.server.close(() => r()) : r()));
    target = undefined;
  });

  // With release threads, shares 1.. are opened, pre-sent and released by worker threads (the built
  // `dist/src/load/burst/last-byte-worker.js`: `npm test` builds first).
  it.each([1, 3])(
    'pre-sends every request but its final byte, completes them on release (%i release threads)',
    async (releaseThreads) => {
      const expected = new Map<number, Buffer>();
      target = await rawTarget(expected, (i, _bytes, socket) => {
        // chunked for odd requests, fixed length for even ones
        if (i % 2)
          socket.write(
            `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nodd\r\n1\r\n${i}\r\n0\r\n\r\n`,
          );
        else socket.write(`HTTP/1.1 201 Created\r\nContent-Length: ${String(i).length}\r\n\r\n${i}`);
      });
      const host = target.url.host;
      for (const r of requests) expected.set(r.index, serializeRequest(r, host));

      const threadsBefore = osThreads();
      const sender = lastByte(options(target.url, { releaseThreads }));
      try {
        await sender.prepare(requests);
        // Shares 1.. live in worker threads (each at least one more OS thread of this process).
        if (threadsBefore !== undefined)
          expect(osThreads()! - threadsBefore).toBeGreaterThanOrEqual(releaseThreads - 1);
        // Before release: each request is on the server, minus exactly its last byte.
        await vi.waitFor(() => expect(target!.received.size).toBe(requests.length));
        for (const r of requests) {
          const full = expected.get(r.index)!;
          await vi.waitFor(() => expect(target!.received.get(r.index)).toEqual(full.subarray(0, -1)));
        }
        const bodiless = expected.get(1)!;
        expect(bodiless.subarray(-4).toString()).toBe('\r\n\r\n'); // held back: the final \n

        const before = performance.now();
        const outcome = await sender.release();
        const after = performance.now();
        for (const r of requests) expect(target.received.get(r.index)).toEqual(expected.get(r.index));
        // Every stamp, the workers' included, is in the caller's clock.
        for (const rec of outcome.records) {
          expect(rec.sentAtMs).toBeGreaterThanOrEqual(before);
          expect(rec.sentAtMs).toBeLessThanOrEqual(after);
        }
        expect(outcome.sendSpreadMs).toBeLessThanOrEqual(after - before);
        expect(outcome.records.map((r) => [r.index, r.status, r.body, r.error])).toEqual(
          requests.map((r) =>
            r.index % 2
              ? [r.index, 200, `odd${r.index}`, undefined]
              : [r.index, 201, `${r.index}`, undefined],
          ),
        );
        expect(outcome.records.map((r) => r.connection)).toEqual([0, 1, 2, 3, 4, 5]);
        expect(outcome.sendSpreadMs).toBeGreaterThanOrEqual(0);
        for (const rec of outcome.records) expect(rec.latencyMs).toBeGreaterThanOrEqual(0);
      } finally {
        await sender.close();
      }
    },
  );

  it('over TLS (https:): the final byte is held back inside the encrypted stream and sent on release', async () => {
    const expected = new Map<number, Buffer>();
    target = await rawTarget(
      expected,
      (i, _bytes, socket) =>
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${String(i).length}\r\n\r\n${i}`),
      true,
    );
    for (const r of requests) expected.set(r.index, serializeRequest(r, target.url.host));
    const sender = lastByte(options(target.url, { releaseThreads: 2 }));
    try {
      await sender.prepare(requests);
      for (const r of requests) {
        const full = expected.get(r.index)!;
        await vi.waitFor(() => expect(target!.received.get(r.index)).toEqual(full.subarray(0, -1)));
      }
      const outcome = await sender.release();
      for (const r of requests) expect(target.received.get(r.index)).toEqual(expected.get(r.index));
      expect(outcome.records.map((r) => [r.status, r.body, r.error])).toEqual(
        requests.map((r) => [200, `${r.index}`, undefined]),
      );
    } finally {
      await sender.close();
    }
  });

  it.each([1, 2])(
    'records the errno code when the target closes or resets, TIMEOUT when it never answers (%i release threads)',
    async (releaseThreads) => {
      const expected = new Map<number, Buffer>();
      const replies: Record<number, (s: Socket) => void> = {
        0: (s) => s.end(), // FIN before any response
        1: (s) => s.resetAndDestroy(), // RST
        2: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort'), // cut inside the body
        3: (s) => s.write('HTTP/1.1 204 No Content\r\n\r\n'),
        // 4 and 5: never answered
      };
      target = await rawTarget(expected, (i, _b, s) => replies[i]?.(s));
      for (const r of requests) expected.set(r.index, serializeRequest(r, target.url.host));
      const sender = lastByte(options(target.url, { timeoutMs: 300, releaseThreads }));
      try {
        await sender.prepare(requests);
        const { records } = await sender.release();
        expect(records.map((r) => r.error ?? r.status)).toEqual([
          'SOCKET_CLOSED',
          'ECONNRESET',
          'SOCKET_CLOSED',
          204,
          'TIMEOUT',
          'TIMEOUT',
        ]);
        for (const r of records) expect(typeof r.sentAtMs).toBe('number');
      } finally {
        await sender.close();
      }
    },
  );

  it.each([1, 3])(
    'fails prepare with ECONNREFUSED, and close() is safe before, after and twice (%i release threads)',
    async (releaseThreads) => {
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const port = (probe.address() as { port: number }).port;
      await new Promise<void>((r) => probe.close(() => r()));
      const sender = lastByte(options(new URL(`http://127.0.0.1:${port}`), { releaseThreads }));
      await sender.close();
      await expect(sender.prepare(requests)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await sender.close();
      await sender.close();
    },
  );

  it("close() after prepare, without release, closes every connection, the release threads' too", async () => {
    const expected = new Map<number, Buffer>();
    target = await rawTarget(expected, () => undefined);
    for (const r of requests) expected.set(r.index, serializeRequest(r, target.url.host));
    const sender = lastByte(options(target.url, { releaseThreads: 3 }));
    await sender.prepare(requests);
    await vi.waitFor(() => expect(target!.received.size).toBe(requests.length));
    const closed = target.sockets.map((s) => new Promise<void>((r) => s.once('close', () => r())));
    await sender.close();
    await Promise.all(closed);
    // Nothing was released: every request still lacks its final byte.
    for (const r of requests)
      expect(target.received.get(r.index)).toEqual(expected.get(r.index)!.subarray(0, -1));
  });
});

describe('release threads', () => {
  it('auto: one per 100 requests, at most the cores; never more than the requests, at least one', () => {
    expect(releaseThreadCount('auto', 1, 8)).toBe(1);
    expect(releaseThreadCount(undefined, 100, 8)).toBe(1);
    expect(releaseThreadCount('auto', 101, 8)).toBe(2);
    expect(releaseThreadCount('auto', 10_000, 8)).toBe(8);
    expect(releaseThreadCount('auto', 200, 2)).toBe(2);
    expect(releaseThreadCount('auto', 200, 1)).toBe(1);
    expect(releaseThreadCount('auto', 200)).toBe(Math.min(2, availableParallelism()));
    expect(releaseThreadCount(4, 2)).toBe(2);
    expect(releaseThreadCount(3, 200)).toBe(3);
  });

  it('splits N requests into contiguous shares whose sizes differ by at most one', () => {
    expect(splitEvenly(7, 3)).toEqual([
      [0, 3],
      [3, 5],
      [5, 7],
    ]);
    expect(splitEvenly(2, 1)).toEqual([[0, 2]]);
    expect(splitEvenly(200, 2)).toEqual([
      [0, 100],
      [100, 200],
    ]);
  });
});
