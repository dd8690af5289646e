import { afterEach, describe, expect, it } from 'vitest';
import { Cleanups, connect, proxyTo, receiveAll, receiveBytes, sleep } from '../test-support.js';
import { config } from './down.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

describe('down', () => {
  it('refuse: new connections get ECONNREFUSED, open ones keep working, removal listens again', async () => {
    const { proxy } = await proxyTo(cleanups);
    const open = await connect(proxy.address.port);
    cleanups.defer(() => open.destroy());
    await proxy.addToxic({ type: 'down', attributes: { mode: 'refuse' } });
    await expect(connect(proxy.address.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    open.write('still');
    expect((await receiveBytes(open, 5)).toString()).toBe('still');
    await proxy.removeToxic('down_both');
    const again = await connect(proxy.address.port);
    again.write('back');
    expect((await receiveBytes(again, 4)).toString()).toBe('back');
    again.destroy();
  });

  it('reset: open and new connections see ECONNRESET', async () => {
    const { proxy } = await proxyTo(cleanups);
    const open = await connect(proxy.address.port);
    const openGot = receiveAll(open);
    await proxy.addToxic({ type: 'down', attributes: { mode: 'reset' } });
    expect((await openGot).errorCode).toBe('ECONNRESET');
    // A new connection is accepted and reset at once: the client sees it at connect or right after.
    for (let i = 0; i < 5; i++) {
      const code = await connect(proxy.address.port).then(
        async (s) => (await receiveAll(s)).errorCode,
        (e: NodeJS.ErrnoException) => e.code,
      );
      expect(code).toBe('ECONNRESET');
    }
  });

  it('blackhole: accepts and never answers; held data flows once it is removed', async () => {
    const { proxy } = await proxyTo(cleanups);
    const open = await connect(proxy.address.port);
    cleanups.defer(() => open.destroy());
    await proxy.addToxic({ type: 'down', attributes: { mode: 'blackhole' } });
    const fresh = await connect(proxy.address.port);
    cleanups.defer(() => fresh.destroy());
    const seen: Buffer[] = [];
    open.on('data', (b: Buffer) => seen.push(b));
    fresh.on('data', (b: Buffer) => seen.push(b));
    open.write('one');
    fresh.write('two');
    await sleep(300);
    expect(seen).toEqual([]);
    expect(open.closed || fresh.closed).toBe(false);
    open.removeAllListeners('data');
    fresh.removeAllListeners('data');
    const a = receiveBytes(open, 3);
    const b = receiveBytes(fresh, 3);
    await proxy.removeToxic('down_both');
    expect((await a).toString()).toBe('one');
    expect((await b).toString()).toBe('two');
  });

  it('acts on both streams only', () => {
    expect(config.parse({ type: 'down', attributes: { mode: 'reset' } }).stream).toBe('both');
    expect(
      config.safeParse({ type: 'down', stream: 'upstream', attributes: { mode: 'reset' } }).success,
    ).toBe(false);
  });
});
