import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { Cleanups, connect, proxyTo, receiveAll, tcpServer } from '../test-support.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

describe('reset_peer', () => {
  it('resets both peers (TCP RST) when data arrives: the client sees ECONNRESET', async () => {
    const serverErrors: string[] = [];
    const server = cleanups.add(
      await tcpServer((s) => {
        s.on('data', (b: Buffer) => s.write(b));
        s.on('error', (e: NodeJS.ErrnoException) => serverErrors.push(e.code ?? ''));
      }),
    );
    const { proxy } = await proxyTo(cleanups, server);
    await proxy.addToxic({ type: 'reset_peer', stream: 'upstream', attributes: { timeout: 0 } });
    const s = await connect(proxy.address.port);
    const got = receiveAll(s);
    s.write('hello');
    const r = await got;
    expect(r.errorCode).toBe('ECONNRESET');
    expect(r.data.length).toBe(0);
    await new Promise<void>((resolve) =>
      server.accepted[0]!.closed ? resolve() : server.accepted[0]!.once('close', () => resolve()),
    );
    expect(serverErrors).toContain('ECONNRESET');
  });

  it('waits the timeout after the first data before resetting', async () => {
    const { proxy } = await proxyTo(cleanups);
    await proxy.addToxic({ type: 'reset_peer', attributes: { timeout: 200 } });
    const s = await connect(proxy.address.port);
    const got = receiveAll(s);
    const t0 = performance.now();
    s.write('hello');
    const r = await got;
    expect(r.errorCode).toBe('ECONNRESET');
    expect(r.closeAtMs - t0).toBeGreaterThanOrEqual(200);
  });
});
