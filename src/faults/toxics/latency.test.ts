import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.js';
import { Cleanups, connect, proxyTo, receiveBytes } from '../test-support.js';
import { config, LatencyToxic } from './latency.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

describe('latency', () => {
  it('delays the answer by at least the latency in each direction it is on', async () => {
    const { proxy } = await proxyTo(cleanups);
    await proxy.addToxic({ type: 'latency', attributes: { latency: 120 } });
    const s = await connect(proxy.address.port);
    let t0 = performance.now();
    s.write('ping');
    expect((await receiveBytes(s, 4)).toString()).toBe('ping');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(120);

    await proxy.addToxic({ type: 'latency', stream: 'upstream', attributes: { latency: 80 } });
    t0 = performance.now();
    s.write('pong');
    expect((await receiveBytes(s, 4)).toString()).toBe('pong');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(200);
    s.destroy();
  });

  it('with jitter, each delay is at least latency − jitter, varies, and replays from the seed', async () => {
    const t = new LatencyToxic(100, 30);
    const draw = (seed: number) => {
      const r = mulberry32(seed);
      return Array.from({ length: 200 }, () => t.delayMs(r));
    };
    const a = draw(5);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(70);
    expect(Math.max(...a)).toBeLessThan(130);
    expect(new Set(a).size).toBeGreaterThan(20);
    expect(draw(5)).toEqual(a);

    const { proxy } = await proxyTo(cleanups);
    await proxy.addToxic({ type: 'latency', attributes: { latency: 100, jitter: 30 } });
    const s = await connect(proxy.address.port);
    const t0 = performance.now();
    s.write('x');
    await receiveBytes(s, 1);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(70);
    s.destroy();
  });

  it('validates its attributes (Toxiproxy names, ms or a duration with a unit)', () => {
    expect(config.parse({ type: 'latency', attributes: { latency: 5 } }).attributes).toEqual({
      latency: 5,
      jitter: 0,
    });
    expect(config.parse({ type: 'latency', attributes: { latency: '1.5s' } }).attributes.latency).toBe(1500);
    expect(config.safeParse({ type: 'latency', attributes: { latency: '2h' } }).success).toBe(false);
    expect(config.safeParse({ type: 'latency', attributes: { latency: -1 } }).success).toBe(false);
    expect(config.safeParse({ type: 'latency', attributes: { latencyMs: 5 } }).success).toBe(false);
  });
});
