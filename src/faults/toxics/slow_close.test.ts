import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanups, connect, proxyTo, receiveAll, tcpServer } from '../test-support.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

describe('slow_close', () => {
  it('delivers data at once but the close only after the delay', async () => {
    const server = cleanups.add(await tcpServer((s) => s.end('bye')));
    const { proxy } = await proxyTo(cleanups, server);
    await proxy.addToxic({ type: 'slow_close', attributes: { delay: 300 } });
    const t0 = performance.now();
    const r = await receiveAll(await connect(proxy.address.port));
    expect(r.data.toString()).toBe('bye');
    expect(r.endAtMs! - t0).toBeGreaterThanOrEqual(300);
    expect(r.errorCode).toBeUndefined();
  });
});
