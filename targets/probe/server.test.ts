import { connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastByte } from '../../src/load/burst/last-byte.js';
import type { BurstSender, SenderOptions } from '../../src/load/burst/sender.js';
import { singlePacket } from '../../src/load/burst/single-packet.js';
import type { PreparedRequest } from '../../src/load/types.js';
import { createProbe } from './server.js';

describe('probe target', () => {
  let probe: Server;
  const sockets: Socket[] = [];
  let base: URL;
  beforeAll(async () => {
    probe = createProbe('/health');
    probe.on('connection', (s: Socket) => sockets.push(s));
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    base = new URL(`http://127.0.0.1:${(probe.address() as { port: number }).port}`);
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => probe.close(() => r()));
  });

  const arrivals = async () =>
    (await (await fetch(new URL('/__probe/arrivals', base))).json()) as {
      count: number;
      spreadMs: number;
      dataSpreadMs: number;
      requests: Array<{ proto: string; method: string; path: string; dataMs: number; handlerMs: number }>;
    };

  const requests: PreparedRequest[] = Array.from({ length: 12 }, (_, i) => ({
    index: i,
    method: i % 3 ? 'GET' : 'POST',
    path: `/burst/${i}`,
    headers: {},
    body: i % 3 ? undefined : Buffer.from(`{"i":${i}}`),
  }));

  async function burst(sender: BurstSender) {
    try {
      await sender.prepare(requests);
      return await sender.release();
    } finally {
      await sender.close();
    }
  }

  const options: () => SenderOptions = () => ({
    baseUrl: base,
    clock: () => performance.now(),
    timeoutMs: 5_000,
    warmupPath: '/health',
    holdMs: 10,
    streamsPerConnection: 5,
  });

  it.each([
    ['last-byte', lastByte, 'h1'],
    ['single-packet', singlePacket, 'h2'],
  ] as const)(
    'records one arrival per %s request (HTTP/1.1 and h2c on one port), not the warm-ups',
    async (_name, factory, proto) => {
      await fetch(new URL('/__probe/reset', base), { method: 'POST' });
      const { records } = await burst(factory(options()));
      expect(records.every((r) => r.status === 200 && r.body === '{"ok":true}')).toBe(true);
      const seen = await arrivals();
      expect(seen.count).toBe(requests.length);
      expect(seen.requests.map((r) => r.path).sort()).toEqual(requests.map((r) => r.path).sort());
      expect(seen.requests.every((r) => r.proto === proto && r.dataMs <= r.handlerMs)).toBe(true);
      expect(seen.spreadMs).toBeGreaterThanOrEqual(0);
      expect(seen.dataSpreadMs).toBeGreaterThanOrEqual(0);
    },
  );

  it('answers and records a request whose client half-closes right after sending it', async () => {
    await fetch(new URL('/__probe/reset', base), { method: 'POST' });
    // The FIN arrives while the request still waits to be parsed: it must stay behind the request's bytes.
    const answer = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(base.port), '127.0.0.1', () => {
        s.end('POST /half HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nhi');
      });
      let got = '';
      s.on('data', (d) => {
        got += d;
      });
      s.on('close', () => resolve(got));
      s.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\{"ok":true\}$/);
    expect((await arrivals()).requests.map((r) => r.path)).toEqual(['/half']);
  });

  it('forgets arrivals on reset', async () => {
    await fetch(new URL('/__probe/reset', base), { method: 'POST' });
    expect((await arrivals()).count).toBe(0);
  });
});
