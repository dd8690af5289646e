import { afterEach, describe, expect, it } from 'vitest';
import { Cleanups, connect, proxyTo, receiveAll, tcpServer } from '../test-support.js';

const cleanups = new Cleanups();
afterEach(() => cleanups.run());

describe('limit_data', () => {
  it('passes exactly N bytes downstream, then closes', async () => {
    const server = cleanups.add(await tcpServer((s) => s.write(Buffer.alloc(5000, 1))));
    const { proxy } = await proxyTo(cleanups, server);
    await proxy.addToxic({ type: 'limit_data', attributes: { bytes: 1000 } });
    const r = await receiveAll(await connect(proxy.address.port));
    expect(r.data.length).toBe(1000);
  });

  it('passes exactly N bytes upstream, then closes (the server sees the end)', async () => {
    let serverGot = 0;
    let sawEnd!: () => void;
    const serverSawEnd = new Promise<void>((r) => {
      sawEnd = r;
    });
    const server = cleanups.add(
      await tcpServer((s) => {
        s.on('data', (b: Buffer) => {
          serverGot += b.length;
        });
        s.on('end', () => sawEnd());
      }),
    );
    const { proxy } = await proxyTo(cleanups, server);
    await proxy.addToxic({ type: 'limit_data', stream: 'upstream', attributes: { bytes: 1000 } });
    const s = await connect(proxy.address.port);
    const got = receiveAll(s);
    s.write(Buffer.alloc(5000, 2));
    await got;
    await serverSawEnd;
    expect(serverGot).toBe(1000);
  });
});
