import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { CountingRequest } from './counting-request.js';

/** One request through undici's dispatch: write-time stamp, body counted through, errors as codes. */
let server: Server | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.destroy();
  if (server) await new Promise((r) => server!.close(r));
  server = client = undefined;
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const send = (c: Client, path: string) =>
  new Promise<CountingRequest>((resolve) =>
    CountingRequest.send(c, { index: 0, method: 'GET', path, headers: {} }, () => performance.now(), resolve),
  );

describe('CountingRequest', () => {
  it('counts body bytes and lines across chunks and keeps only the first 512 characters', async () => {
    const line = `${'x'.repeat(99)}\n`;
    const origin = await serve((_req, res) => {
      let i = 0;
      const more = () => {
        if (i++ === 50) return void res.end();
        res.write(line.repeat(20));
        setImmediate(more);
      };
      more();
    });
    client = new Client(origin);
    const r = (await send(client, '/export')).result();
    expect(r.status).toBe(200);
    expect(r.bodyBytes).toBe(50 * 20 * 100);
    expect(r.bodyLines).toBe(50 * 20);
    expect(r.body).toHaveLength(512);
    expect(r.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('stamps sentAtMs when undici writes the request, not when it is handed over', async () => {
    const origin = await serve((req, res) => {
      setTimeout(() => res.end('ok\n'), req.url === '/slow' ? 50 : 0);
    });
    client = new Client(origin, { pipelining: 1 });
    await send(client, '/warm');
    const handedOverAt = performance.now();
    const slow = send(client, '/slow');
    // Same connection, one request at a time: this one waits for the slow response before it is written.
    const queued = send(client, '/fast');
    const [s, q] = await Promise.all([slow, queued]);
    expect(s.written && q.written).toBe(true);
    const slowEnd = s.sentAtMs + s.result().latencyMs!;
    expect(q.sentAtMs).toBeGreaterThanOrEqual(slowEnd);
    expect(q.sentAtMs - handedOverAt).toBeGreaterThanOrEqual(45);
  });

  it('completes once with the error code when the connection is refused', async () => {
    client = new Client('http://127.0.0.1:1');
    let calls = 0;
    const r = await new Promise<CountingRequest>((resolve) =>
      CountingRequest.send(
        client!,
        { index: 0, method: 'GET', path: '/', headers: {} },
        () => performance.now(),
        (done) => {
          calls++;
          resolve(done);
        },
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.written).toBe(false);
    expect(r.result().error).toBe('ECONNREFUSED');
    expect(calls).toBe(1);
  });

  it('gives up a written request on abort, with the reason as its error code', async () => {
    const origin = await serve((_req, res) => setTimeout(() => res.end('late'), 500));
    client = new Client(origin);
    let calls = 0;
    const done = new Promise<CountingRequest>((resolve) => {
      const r = CountingRequest.send(
        client!,
        { index: 0, method: 'GET', path: '/hang', headers: {} },
        () => performance.now(),
        (d) => {
          calls++;
          resolve(d);
        },
      );
      setTimeout(() => r.abort(new DOMException('deadline', 'TimeoutError')), 20);
    });
    const r = await done;
    expect(r.written).toBe(true);
    expect(r.result().error).toBe('TIMEOUT');
    expect(r.finished).toBe(true);
    expect(calls).toBe(1);
  });
});
