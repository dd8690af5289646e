import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.js';
import { Cleanups, connect, proxyTo, receiveAll, tcpServer } from '../test-support.js';
import { config, SlicerToxic } from './slicer.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

describe('slicer', () => {
  it('delivers one write in many chunks, bytes intact', async () => {
    const payload = randomBytes(20_000);
    const server = cleanups.add(await tcpServer((s) => s.end(payload)));
    const { proxy } = await proxyTo(cleanups, server);
    await proxy.addToxic({
      type: 'slicer',
      attributes: { average_size: 500, size_variation: 200, delay: 2000 },
    });
    const r = await receiveAll(await connect(proxy.address.port));
    expect(r.data.equals(payload)).toBe(true);
    expect(r.chunks).toBeGreaterThanOrEqual(10);
  });

  it('cuts contiguous slices around the average size', () => {
    const t = new SlicerToxic(100, 40, 0);
    const cuts = t.chunk(0, 10_000, mulberry32(1));
    expect(cuts[0]).toBe(0);
    expect(cuts.at(-1)).toBe(10_000);
    for (let i = 1; i < cuts.length; i += 2) {
      const size = cuts[i]! - cuts[i - 1]!;
      expect(size).toBeGreaterThan(0);
      expect(size).toBeLessThanOrEqual(140);
      if (i + 1 < cuts.length) expect(cuts[i + 1]).toBe(cuts[i]);
    }
    expect(cuts.length / 2).toBeGreaterThanOrEqual(50);
  });

  it('rejects size_variation ≥ average_size', () => {
    const r = config.safeParse({ type: 'slicer', attributes: { average_size: 10, size_variation: 10 } });
    expect(r.success).toBe(false);
  });
});
