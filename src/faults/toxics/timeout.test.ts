import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanups, connect, proxyTo, receiveAll, sleep, tcpServer } from '../test-support.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

async function countingServer() {
  const received = { bytes: 0 };
  const server = cleanups.add(
    await tcpServer((s) =>
      s.on('data', (b: Buffer) => {
        received.bytes += b.length;
        s.write(b);
      }),
    ),
  );
  return { server, received };
}

describe('timeout', () => {
  it('stops all data and closes the connection after the timeout', async () => {
    const { server, received } = await countingServer();
    const { proxy } = await proxyTo(cleanups, server);
    await proxy.addToxic({ type: 'timeout', stream: 'upstream', attributes: { timeout: 200 } });
    const t0 = performance.now();
    const s = await connect(proxy.address.port);
    const got = receiveAll(s);
    s.write('hello');
    const r = await got;
    expect(r.closeAtMs - t0).toBeGreaterThanOrEqual(200);
    expect(r.data.length).toBe(0);
    expect(received.bytes).toBe(0);
  });

  it('with 0 holds the connection open and silent; removing it closes the connection', async () => {
    const { server, received } = await countingServer();
    const { proxy } = await proxyTo(cleanups, server);
    await proxy.addToxic({ type: 'timeout', stream: 'upstream', attributes: { timeout: 0 } });
    const s = await connect(proxy.address.port);
    const got = receiveAll(s);
    s.write('hello');
    await sleep(400);
    expect(s.closed).toBe(false);
    expect(received.bytes).toBe(0);
    await proxy.removeToxic('timeout_upstream');
    const r = await got;
    expect(r.data.length).toBe(0);
  });
});
