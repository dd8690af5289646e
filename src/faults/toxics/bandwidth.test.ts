import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanups, connect, proxyTo, receiveAll, tcpServer } from '../test-support.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

describe('bandwidth', () => {
  it('limits throughput: 300 kB at 300 KB/s takes at least a second, bytes intact', async () => {
    const payload = randomBytes(300_000);
    const server = cleanups.add(await tcpServer((s) => s.end(payload)));
    const { proxy } = await proxyTo(cleanups, server);
    await proxy.addToxic({ type: 'bandwidth', attributes: { rate: 300 } });
    const t0 = performance.now();
    const r = await receiveAll(await connect(proxy.address.port));
    expect(r.data.equals(payload)).toBe(true);
    expect(r.endAtMs! - t0).toBeGreaterThanOrEqual(0.99 * 1000);
    // Delivered progressively (100 ms slices), not held and dumped at the end.
    expect(r.endAtMs! - r.firstDataAtMs!).toBeGreaterThanOrEqual(0.99 * 900);
  });

  it('limits the upstream direction too', async () => {
    const payload = randomBytes(100_000);
    let doneAt = 0;
    const server = cleanups.add(
      await tcpServer((s) => {
        s.resume();
        s.on('end', () => {
          doneAt = performance.now();
          s.end();
        });
      }),
    );
    const { proxy } = await proxyTo(cleanups, server);
    await proxy.addToxic({ type: 'bandwidth', stream: 'upstream', attributes: { rate: 200 } });
    const s = await connect(proxy.address.port);
    const t0 = performance.now();
    const got = receiveAll(s);
    s.end(payload);
    await got;
    expect(doneAt - t0).toBeGreaterThanOrEqual(0.99 * 500);
  });
});
