import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { WhatbreaksError } from '../errors.js';
import { type StartedProxy, startProxy } from './proxy.js';
import { Cleanups, connect, echoServer, receiveAll, receiveBytes, sleep, tcpServer } from './test-support.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

async function echoProxy(seed?: number): Promise<StartedProxy> {
  const echo = cleanups.add(await echoServer());
  return cleanups.add(
    await startProxy({ name: 'echo', upstream: { host: '127.0.0.1', port: echo.port }, seed }),
  );
}

/** Write `payload` in pieces, yielding between them, so toxics change while bytes are in flight. */
async function writeSlowly(s: Socket, payload: Buffer, pieceBytes: number): Promise<void> {
  for (let off = 0; off < payload.length; off += pieceBytes) {
    if (!s.write(payload.subarray(off, off + pieceBytes))) await new Promise((r) => s.once('drain', r));
    await sleep(1);
  }
  s.end();
}

describe('startProxy', () => {
  it('passes bytes both ways unchanged and reports its address', async () => {
    const proxy = await echoProxy();
    expect(proxy.address.host).toBe('127.0.0.1');
    expect(proxy.address.port).toBeGreaterThan(0);
    const payload = randomBytes(1024 * 1024);
    const s = await connect(proxy.address.port);
    const got = receiveAll(s);
    s.end(payload);
    const r = await got;
    expect(r.data.equals(payload)).toBe(true);
    expect(r.errorCode).toBeUndefined();
    expect(proxy.acceptedCount).toBe(1);
  });

  it('applies a toxic added after the connection opened', async () => {
    const proxy = await echoProxy();
    const s = await connect(proxy.address.port);
    s.write('warm');
    await receiveBytes(s, 4);
    await proxy.addToxic({ type: 'latency', attributes: { latency: 150 } });
    const t0 = performance.now();
    s.write('ping');
    await receiveBytes(s, 4);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150);
    s.destroy();
  });

  it('toxicity 0 never applies, 1 always does', async () => {
    const proxy = await echoProxy();
    await proxy.addToxic({ type: 'limit_data', name: 'never', toxicity: 0, attributes: { bytes: 10 } });
    const payload = Buffer.alloc(100, 7);
    for (let i = 0; i < 20; i++) {
      const s = await connect(proxy.address.port);
      const got = receiveAll(s);
      s.end(payload);
      expect((await got).data.length).toBe(100);
    }
    await proxy.removeToxic('never');
    await proxy.addToxic({ type: 'limit_data', name: 'always', toxicity: 1, attributes: { bytes: 10 } });
    for (let i = 0; i < 5; i++) {
      const s = await connect(proxy.address.port);
      const got = receiveAll(s);
      s.end(payload);
      expect((await got).data.length).toBe(10);
    }
  });

  it('rolls toxicity once per connection, replayably from the seed', async () => {
    async function pattern(seed: number): Promise<boolean[]> {
      const proxy = await echoProxy(seed);
      await proxy.addToxic({ type: 'limit_data', toxicity: 0.5, attributes: { bytes: 10 } });
      const out: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        const s = await connect(proxy.address.port);
        const got = receiveAll(s);
        s.end(Buffer.alloc(100));
        out.push((await got).data.length === 10);
      }
      return out;
    }
    const a = await pattern(11);
    const applied = a.filter(Boolean).length;
    expect(applied).toBeGreaterThanOrEqual(8);
    expect(applied).toBeLessThanOrEqual(32);
    expect(await pattern(11)).toEqual(a);
  });

  it('loses no byte when a latency toxic is toggled mid-stream (1 MiB)', async () => {
    const proxy = await echoProxy();
    const payload = randomBytes(1024 * 1024);
    const s = await connect(proxy.address.port);
    const got = receiveAll(s);
    let toggles = 0;
    const toggling = (async () => {
      while (!s.closed && toggles < 40) {
        await proxy.addToxic({ type: 'latency', stream: 'both', attributes: { latency: 20, jitter: 10 } });
        await sleep(7);
        await proxy.removeToxic('latency_both');
        await sleep(3);
        toggles++;
      }
    })();
    await writeSlowly(s, payload, 16 * 1024);
    const r = await got;
    await toggling;
    expect(toggles).toBeGreaterThanOrEqual(2);
    expect(r.data.length).toBe(payload.length);
    expect(r.data.equals(payload)).toBe(true);
  });

  it('loses no byte when toxics in the middle of a chain come and go', async () => {
    const proxy = await echoProxy();
    const payload = randomBytes(512 * 1024);
    await proxy.addToxic({ type: 'latency', name: 'first', stream: 'upstream', attributes: { latency: 5 } });
    await proxy.addToxic({ type: 'bandwidth', name: 'last', stream: 'upstream', attributes: { rate: 2000 } });
    const s = await connect(proxy.address.port);
    const got = receiveAll(s);
    const toggling = (async () => {
      for (let i = 0; i < 10 && !s.closed; i++) {
        await proxy.addToxic({
          type: 'slicer',
          name: 'middle',
          stream: 'upstream',
          attributes: { average_size: 1000, size_variation: 500, delay: 1000 },
        });
        await sleep(15);
        await proxy.removeToxic('middle');
        await proxy.removeToxic('first');
        await sleep(5);
        await proxy.addToxic({
          type: 'latency',
          name: 'first',
          stream: 'upstream',
          attributes: { latency: 5 },
        });
      }
    })();
    await writeSlowly(s, payload, 32 * 1024);
    await toggling;
    await proxy.removeAllToxics();
    const r = await got;
    expect(r.data.equals(payload)).toBe(true);
  });

  it('pushes back on a sender it cannot forward to, instead of buffering without bound', async () => {
    const proxy = await echoProxy();
    await proxy.addToxic({ type: 'down', attributes: { mode: 'blackhole' } });
    const s = await connect(proxy.address.port);
    const got = receiveAll(s);
    const payload = randomBytes(48 * 1024 * 1024);
    s.write(payload);
    await sleep(500);
    // Kernel buffers on loopback hold a few MiB and the link 1 MiB: the rest must still wait in the client.
    expect(s.writableLength).toBeGreaterThan(16 * 1024 * 1024);
    await proxy.removeToxic('down_both');
    s.end();
    const r = await got;
    expect(r.data.length).toBe(payload.length);
    expect(r.data.equals(payload)).toBe(true);
  });

  it('lists toxics with defaults, and rejects duplicates, unknown names and bad configs', async () => {
    const proxy = await echoProxy();
    await proxy.addToxic({ type: 'latency', attributes: { latency: 10 } });
    await proxy.addToxic({ type: 'timeout', name: 't', stream: 'upstream', attributes: { timeout: 0 } });
    expect(proxy.listToxics()).toEqual([
      {
        type: 'latency',
        name: 'latency_downstream',
        stream: 'downstream',
        toxicity: 1,
        attributes: { latency: 10, jitter: 0 },
      },
      { type: 'timeout', name: 't', stream: 'upstream', toxicity: 1, attributes: { timeout: 0 } },
    ]);
    await expect(proxy.addToxic({ type: 'latency', attributes: { latency: 1 } })).rejects.toThrow(
      /already has a toxic named "latency_downstream"/,
    );
    await expect(proxy.removeToxic('nope')).rejects.toThrow(/no toxic named "nope"/);
    // biome-ignore lint/suspicious/noExplicitAny: deliberately invalid input
    const bad: any = { type: 'latency', attributes: { latency: -1, extra: 1 } };
    const err = await proxy.addToxic(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WhatbreaksError);
    expect(String(err)).toMatch(/extra/);
    expect(String(err)).toMatch(/latency/);
    // biome-ignore lint/suspicious/noExplicitAny: deliberately invalid input
    await expect(proxy.addToxic({ type: 'latencyy' } as any)).rejects.toThrow(/invalid toxic/);
    await proxy.removeToxic('t');
    expect(proxy.listToxics().map((t) => t.name)).toEqual(['latency_downstream']);
  });

  it('stop() closes open connections and the listener', async () => {
    const proxy = await echoProxy();
    const s = await connect(proxy.address.port);
    const got = receiveAll(s);
    s.write('x');
    await sleep(20);
    expect(proxy.connectionCount).toBe(1);
    await proxy.stop();
    await got;
    expect(proxy.connectionCount).toBe(0);
    await expect(connect(proxy.address.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('resets the client when the upstream cannot be reached', async () => {
    const gone = await tcpServer(() => {});
    const port = gone.port;
    await gone.close();
    const proxy = cleanups.add(await startProxy({ name: 'dead', upstream: { host: '127.0.0.1', port } }));
    const s = await connect(proxy.address.port);
    const r = await receiveAll(s);
    expect(r.errorCode).toBe('ECONNRESET');
  });

  it('passes half-closes on: the server still answers after the client ended its side', async () => {
    const server = cleanups.add(
      await tcpServer((s) => {
        const parts: Buffer[] = [];
        s.on('data', (b: Buffer) => parts.push(b));
        s.on('end', () => s.end(Buffer.concat(parts).toString().toUpperCase()));
      }),
    );
    const proxy = cleanups.add(
      await startProxy({ name: 'half', upstream: { host: '127.0.0.1', port: server.port } }),
    );
    const s = await connect(proxy.address.port);
    const got = receiveAll(s);
    s.end('hello');
    expect((await got).data.toString()).toBe('HELLO');
  });
});
