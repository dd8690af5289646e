import { readFileSync } from 'node:fs';
import {
  constants,
  createServer as createH2Server,
  type Http2Server,
  type ServerHttp2Stream,
} from 'node:http2';
import { connect, createServer, type Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PreparedRequest } from '../types.js';
import { Flag, FrameDecoder, FrameType } from './h2-frames.js';
import type { SenderOptions } from './sender.js';
import { singlePacket } from './single-packet.js';

/** A real node:http2 (nghttp2) target: Huffman-coded, dynamically indexed response headers. */
function h2Target(): Http2Server {
  const server = createH2Server();
  server.on('stream', async (stream: ServerHttp2Stream, headers) => {
    stream.on('error', () => undefined); // the resets below are on purpose
    const path = String(headers[':path']);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    if (path === '/warm') return stream.respond({ ':status': 200 }, { endStream: true });
    if (path === '/reset') return stream.close(constants.NGHTTP2_REFUSED_STREAM);
    if (path === '/hang') return;
    if (path === '/kill') return stream.session?.destroy();
    if (path === '/big') {
      stream.respond({ ':status': 200 });
      return stream.end(Buffer.alloc(200_000, 'b'));
    }
    stream.respond({
      ':status': 201,
      'content-type': 'text/plain; charset=utf-8',
      'x-same-on-every-response': 'a value worth indexing',
      'x-path': path,
    });
    stream.end(`${headers[':method']} ${path} ${body}`);
  });
  return server;
}

/** A TCP relay that keeps every chunk the client sent, per connection, in arrival order. */
interface Capture {
  server: Server;
  port: number;
  chunks: Array<{ conn: number; data: Buffer }>;
  sockets: Socket[];
}

/** Test-only self-signed certificate for 127.0.0.1 (openssl, P-256, valid to 2126). */
const tlsFixture = (name: string) =>
  readFileSync(new URL(`../../../test/fixtures/tls/${name}`, import.meta.url));

/**
 * With `secure`, the relay terminates TLS (ALPN `h2`) and keeps the decrypted chunks: one chunk per TLS
 * record read, so "one chunk" still means "one write by the sender".
 */
async function captureProxy(upstreamPort: number, secure = false): Promise<Capture> {
  const chunks: Capture['chunks'] = [];
  const sockets: Socket[] = [];
  let next = 0;
  const onClient = (client: Socket) => {
    const conn = next++;
    const upstream = connect(upstreamPort, '127.0.0.1');
    sockets.push(client, upstream);
    client.on('data', (data) => {
      chunks.push({ conn, data });
      upstream.write(data);
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  };
  const server = secure
    ? createTlsServer(
        { key: tlsFixture('key.pem'), cert: tlsFixture('cert.pem'), ALPNProtocols: ['h2'] },
        onClient,
      )
    : createServer(onClient);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, chunks, sockets };
}

/** Frames the client sent on connection `conn`, each with the index of the chunk it completed in. */
function framesOf(capture: Capture, conn: number) {
  const decoder = new FrameDecoder(1 << 24);
  const out: Array<{ type: number; flags: number; streamId: number; chunk: number }> = [];
  capture.chunks.forEach((c, chunk) => {
    if (c.conn !== conn) return;
    // skip the 24-byte preface at the start of the connection
    const data =
      out.length === 0 && c.data.subarray(0, 3).toString() === 'PRI' ? c.data.subarray(24) : c.data;
    for (const f of decoder.push(data))
      out.push({ type: f.type, flags: f.flags, streamId: f.streamId, chunk });
  });
  return out;
}

/**
 * Call `sender.release()` and keep every socket write it makes before its first await — the burst
 * itself (TLS sockets included: their writes are plaintext frames).
 */
function releaseRecordingWrites(sender: ReturnType<typeof singlePacket>) {
  const writes: Array<{ socket: Socket; frames: ReturnType<FrameDecoder['push']> }> = [];
  const original = Socket.prototype.write;
  const spy = vi.spyOn(Socket.prototype, 'write').mockImplementation(function (this: Socket, ...args) {
    writes.push({ socket: this, frames: new FrameDecoder(1 << 24).push(args[0] as Buffer) });
    return (original as (...a: unknown[]) => boolean).apply(this, args);
  });
  try {
    return { done: sender.release(), writes };
  } finally {
    spy.mockRestore();
  }
}

/** Per connection, in order: one PING, then one write holding every END_STREAM of its streams. */
function expectPingThenOneWrite(
  writes: ReturnType<typeof releaseRecordingWrites>['writes'],
  ends: number[][],
) {
  expect(writes).toHaveLength(2 * ends.length);
  ends.forEach((streams, c) => {
    const [ping, flush] = [writes[2 * c]!, writes[2 * c + 1]!];
    expect(flush.socket).toBe(ping.socket);
    expect(ping.frames.map((f) => f.type)).toEqual([FrameType.PING]);
    expect(flush.frames.filter((f) => f.flags & Flag.END_STREAM).map((f) => f.streamId)).toEqual(streams);
  });
}

function options(port: number, over: Partial<SenderOptions> = {}): SenderOptions {
  return {
    baseUrl: new URL(`http://127.0.0.1:${port}`),
    clock: () => performance.now(),
    timeoutMs: 5_000,
    warmupPath: '/warm',
    holdMs: 0,
    streamsPerConnection: 3,
    ...over,
  };
}

const request = (index: number, method: string, path: string, body?: string): PreparedRequest => ({
  index,
  method,
  path,
  headers: { 'content-type': 'text/plain', connection: 'keep-alive' },
  body: body === undefined ? undefined : Buffer.from(body),
});

describe('single-packet sender', () => {
  let target: Http2Server;
  let targetPort: number;
  let capture: Capture;
  beforeEach(async () => {
    target = h2Target();
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    targetPort = (target.address() as { port: number }).port;
    capture = await captureProxy(targetPort);
  });
  afterEach(async () => {
    for (const s of capture.sockets) s.destroy();
    await new Promise<void>((r) => capture.server.close(() => r()));
    await new Promise<void>((r) => target.close(() => r()));
  });

  it('completes every stream, and the END_STREAM frames of a connection arrive in one chunk after a PING', async () => {
    const requests = [
      request(0, 'POST', '/api/a', '{"n":0}'),
      request(1, 'GET', '/api/b'),
      request(2, 'POST', '/api/c', 'x'), // one-byte body: nothing but HEADERS pre-sent
      request(3, 'PUT', '/api/d', ''), // empty body
      request(4, 'POST', '/api/e', 'y'.repeat(40_000)), // several DATA frames pre-sent
      request(5, 'GET', '/api/f'),
      request(6, 'DELETE', '/api/g'),
    ];
    const sender = singlePacket(options(capture.port));
    try {
      await sender.prepare(requests);
      // Before release: every burst stream's HEADERS has arrived, and no burst stream has ended.
      await vi.waitFor(() => {
        const headers = [0, 1, 2]
          .flatMap((c) => framesOf(capture, c))
          .filter((f) => f.type === FrameType.HEADERS && f.streamId > 1);
        expect(headers).toHaveLength(requests.length);
      });
      for (const c of [0, 1, 2]) {
        const ended = framesOf(capture, c).filter(
          (f) => f.streamId > 1 && f.flags & Flag.END_STREAM && f.type !== FrameType.PING,
        );
        expect(ended).toEqual([]);
      }
      const { done, writes } = releaseRecordingWrites(sender);
      expectPingThenOneWrite(writes, [[3, 5, 7], [3, 5, 7], [3]]);
      const { records, sendSpreadMs } = await done;

      expect(records.map((r) => [r.index, r.connection, r.status, r.body])).toEqual([
        [0, 0, 201, 'POST /api/a {"n":0}'],
        [1, 0, 201, 'GET /api/b '],
        [2, 0, 201, 'POST /api/c x'],
        [3, 1, 201, 'PUT /api/d '],
        [4, 1, 201, `POST /api/e ${'y'.repeat(40_000)}`.slice(0, 512) + '…'],
        [5, 1, 201, 'GET /api/f '],
        [6, 2, 201, 'DELETE /api/g '],
      ]);
      expect(sendSpreadMs).toBeGreaterThanOrEqual(0);

      for (const [c, streams] of [
        [0, 3],
        [1, 3],
        [2, 1],
      ] as const) {
        const frames = framesOf(capture, c);
        const ends = frames.filter((f) => f.type === FrameType.DATA && f.flags & Flag.END_STREAM);
        expect(ends.map((f) => f.streamId)).toEqual([3, 5, 7].slice(0, streams));
        expect(new Set(ends.map((f) => f.chunk)).size).toBe(1); // one write, one chunk
        const pings = frames.filter((f) => f.type === FrameType.PING && !(f.flags & Flag.ACK));
        expect(pings).toHaveLength(1);
        expect(frames.indexOf(pings[0]!)).toBeLessThan(frames.indexOf(ends[0]!));
      }
    } finally {
      await sender.close();
    }
  });

  it('over TLS (https:, ALPN h2): held END_STREAM frames of a connection leave in one write after a PING', async () => {
    const secure = await captureProxy(targetPort, true);
    const requests = [0, 1, 2, 3].map((i) => request(i, 'POST', `/api/${i}`, `{"n":${i}}`));
    const sender = singlePacket(
      options(secure.port, { baseUrl: new URL(`https://127.0.0.1:${secure.port}`), streamsPerConnection: 4 }),
    );
    try {
      await sender.prepare(requests);
      await vi.waitFor(() =>
        expect(
          framesOf(secure, 0).filter((f) => f.type === FrameType.HEADERS && f.streamId > 1),
        ).toHaveLength(4),
      );
      expect(framesOf(secure, 0).filter((f) => f.streamId > 1 && f.flags & Flag.END_STREAM)).toEqual([]);
      const { done, writes } = releaseRecordingWrites(sender);
      expectPingThenOneWrite(writes, [[3, 5, 7, 9]]);
      const { records } = await done;
      expect(records.map((r) => [r.status, r.body])).toEqual(
        [0, 1, 2, 3].map((i) => [201, `POST /api/${i} {"n":${i}}`]),
      );
      const frames = framesOf(secure, 0);
      const ends = frames.filter((f) => f.type === FrameType.DATA && f.flags & Flag.END_STREAM);
      expect(ends.map((f) => f.streamId)).toEqual([3, 5, 7, 9]);
      expect(new Set(ends.map((f) => f.chunk)).size).toBe(1);
      const ping = frames.find((f) => f.type === FrameType.PING && !(f.flags & Flag.ACK));
      expect(frames.indexOf(ping!)).toBeLessThan(frames.indexOf(ends[0]!));
    } finally {
      await sender.close();
      for (const s of secure.sockets) s.destroy();
      await new Promise<void>((r) => secure.server.close(() => r()));
    }
  });

  it('decodes large responses and many header blocks on one connection (HPACK dynamic table)', async () => {
    const requests = Array.from({ length: 30 }, (_, i) => request(i, 'GET', i === 7 ? '/big' : `/api/${i}`));
    const sender = singlePacket(options(targetPort, { streamsPerConnection: 30 }));
    try {
      await sender.prepare(requests);
      const { records } = await sender.release();
      expect(records.filter((r) => r.status === 201)).toHaveLength(29);
      expect(records[7]?.status).toBe(200);
      expect(records[7]?.body?.length).toBe(513); // 512 + ellipsis
      expect(records[29]?.body).toBe('GET /api/29 ');
    } finally {
      await sender.close();
    }
  });

  it('records RST_STREAM, TIMEOUT and a dropped connection per request', async () => {
    const requests = [
      request(0, 'GET', '/api/ok'),
      request(1, 'POST', '/reset', 'z'),
      request(2, 'GET', '/hang'),
      request(3, 'GET', '/api/ok2'),
      request(4, 'GET', '/kill'),
    ];
    const sender = singlePacket(options(targetPort, { streamsPerConnection: 2, timeoutMs: 300 }));
    try {
      await sender.prepare(requests);
      const { records } = await sender.release();
      expect(records.slice(0, 4).map((r) => r.error ?? r.status)).toEqual([
        201,
        'RST_STREAM:REFUSED_STREAM',
        'TIMEOUT',
        201,
      ]);
      expect(records[4]?.error).toMatch(/^(SOCKET_CLOSED|ECONNRESET|GOAWAY:.*)$/);
    } finally {
      await sender.close();
    }
  });

  it.each([
    [
      'an HTTP/1.1 status line',
      (s: Socket) => s.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'),
      '"HTTP/1.1 400 Bad Request"',
    ],
    // Python's http.server answers "PRI * HTTP/2.0" with a bare HTML error page (no status line).
    [
      'a bare HTML page',
      (s: Socket) => s.end('<!DOCTYPE HTML>\n<html lang="en">\n<head>'),
      '"<!DOCTYPE HTML>"',
    ],
    ['a close without SETTINGS', (s: Socket) => s.end(), 'closed the connection'],
  ] as const)(
    'fails prepare with H2_NOT_SUPPORTED, a hint naming sync: last-byte, when the target answers the preface with %s',
    async (_what, answer, shown) => {
      const server = createServer((s) => {
        s.on('error', () => undefined);
        s.once('data', () => answer(s));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const sender = singlePacket(options((server.address() as { port: number }).port));
      try {
        const err = await sender.prepare([request(0, 'GET', '/')]).catch((e: unknown) => e);
        expect(err).toMatchObject({
          code: 'H2_NOT_SUPPORTED',
          phase: 'warm-up',
          message: expect.stringContaining(shown),
          hint: expect.stringContaining('use sync: last-byte'),
        });
        expect((err as Error).message).toMatch(
          /it does not speak HTTP\/2 \(h2c prior knowledge\) \(0\/1 HTTP\/2 connections open/,
        );
      } finally {
        await sender.close();
        await new Promise<void>((r) => server.close(() => r()));
      }
    },
  );

  it('fails prepare with H2_NOT_SUPPORTED against a node:http (HTTP/1.1-only) server', async () => {
    const { createServer: createHttp1Server } = await import('node:http');
    const h1 = createHttp1Server((_req, res) => res.end('ok'));
    await new Promise<void>((r) => h1.listen(0, '127.0.0.1', r));
    const sender = singlePacket(options((h1.address() as { port: number }).port));
    try {
      await expect(sender.prepare([request(0, 'GET', '/')])).rejects.toMatchObject({
        code: 'H2_NOT_SUPPORTED',
        hint: expect.stringContaining('use sync: last-byte'),
      });
    } finally {
      await sender.close();
      h1.closeAllConnections();
      await new Promise<void>((r) => h1.close(() => r()));
    }
  });

  it('fails prepare on a refused connection; close() is safe at any point', async () => {
    const sender = singlePacket(options(1));
    await sender.close();
    await expect(sender.prepare([request(0, 'GET', '/')])).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await sender.close();
  });
});
