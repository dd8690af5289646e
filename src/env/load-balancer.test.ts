import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { fnv1a, type LoadBalancer, REPLICA_HEADER, startLoadBalancer } from './load-balancer.js';

/** A real HTTP replica that echoes what it received, tagged with its id. */
async function replica(id: number): Promise<{ server: Server; url: URL }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first,');
      setTimeout(() => res.end('second'), 50);
      return;
    }
    const text = JSON.stringify({
      id,
      method: req.method,
      url: req.url,
      body: Buffer.concat(chunks).toString(),
      headers: req.headers,
    });
    res.writeHead(201, { 'content-type': 'application/json', 'x-custom': `r${id}` });
    res.end(text);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`) };
}

/** A port nothing listens on (a replica that is down). */
async function deadUrl(): Promise<URL> {
  const r = await replica(-1);
  await new Promise<void>((res) => r.server.close(() => res()));
  return r.url;
}

const open: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

async function replicas(n: number) {
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => replica(i)));
  for (const r of rs) {
    open.push({
      close: () =>
        new Promise<void>((res) => {
          r.server.closeAllConnections();
          r.server.close(() => res());
        }),
    });
  }
  return rs.map((r, id) => ({ id, url: r.url }));
}

async function lbOver(...args: Parameters<typeof startLoadBalancer>): Promise<LoadBalancer> {
  const lb = await startLoadBalancer(...args);
  open.push({ close: () => lb.stop() });
  return lb;
}

async function get(lb: LoadBalancer, path = '/x', headers: Record<string, string> = {}) {
  const res = await request(new URL(path, lb.url), { headers });
  const text = await res.body.text();
  return { status: res.statusCode, replica: res.headers[REPLICA_HEADER], headers: res.headers, text };
}

describe('load balancer', () => {
  it('round-robins, forwards method, path, headers and body, and names the replica', async () => {
    const lb = await lbOver({ upstreams: await replicas(3) });
    const res = await request(new URL('/api/things?q=1', lb.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user': 'alice' },
      body: '{"a":1}',
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers[REPLICA_HEADER]).toBe('0');
    expect(res.headers['x-custom']).toBe('r0');
    const echo = (await res.body.json()) as {
      method: string;
      url: string;
      body: string;
      headers: Record<string, string>;
    };
    expect(echo).toMatchObject({ method: 'POST', url: '/api/things?q=1', body: '{"a":1}' });
    expect(echo.headers['x-user']).toBe('alice');
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
    const seen = [];
    for (let i = 0; i < 5; i++) seen.push((await get(lb)).replica);
    expect(seen).toEqual(['1', '2', '0', '1', '2']);
    expect(lb.stats().served).toEqual({ 0: 2, 1: 2, 2: 2 });
  });

  it('streams response bodies', async () => {
    const lb = await lbOver({ upstreams: await replicas(1) });
    const res = await request(new URL('/stream', lb.url));
    const chunks: string[] = [];
    for await (const c of res.body) chunks.push(String(c));
    expect(chunks.join('')).toBe('first,second');
    // The first part arrived before the replica wrote the second (50 ms later): it was not buffered.
    expect(chunks.length).toBeGreaterThanOrEqual(2);
  });

  it('skips a replica that is down and answers 502 when all are', async () => {
    const up = await replicas(2);
    const dead = { id: 7, url: await deadUrl() };
    const lb = await lbOver({ upstreams: [up[0]!, dead, up[1]!] });
    const seen = [];
    for (let i = 0; i < 6; i++) {
      const r = await get(lb);
      expect(r.status).toBe(201);
      seen.push(r.replica);
    }
    expect(seen).not.toContain('7');
    expect(lb.stats().retries).toBeGreaterThan(0);

    const allDown = await lbOver({ upstreams: [dead, { id: 8, url: await deadUrl() }] });
    const r = await get(allDown);
    expect(r.status).toBe(502);
    expect(r.replica).toBe('none');
    expect(allDown.stats().failed).toBe(1);
  });

  it('sticky pins a header value to one replica', async () => {
    const lb = await lbOver({ upstreams: await replicas(3), policy: 'sticky', stickyHeader: 'x-user' });
    for (const user of ['alice', 'bob', 'carol', 'dave']) {
      const want = String(fnv1a(user) % 3);
      for (let i = 0; i < 3; i++) expect((await get(lb, '/x', { 'x-user': user })).replica).toBe(want);
    }
  });

  it('random follows the injected source', async () => {
    const values = [0.1, 0.9, 0.5, 0.0];
    let k = 0;
    const lb = await lbOver({
      upstreams: await replicas(3),
      policy: 'random',
      random: () => values[k++ % 4]!,
    });
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await get(lb)).replica);
    expect(seen).toEqual(['0', '2', '1', '0']);
  });

  it('streams request bodies: the replica has the headers while the client holds its last byte', async () => {
    const seen: { headersAt: number; body?: string; bodyAt?: number; aborted?: boolean }[] = [];
    const server = createServer((req, res) => {
      const entry: (typeof seen)[number] = { headersAt: performance.now() };
      seen.push(entry);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        entry.body = Buffer.concat(chunks).toString();
        entry.bodyAt = performance.now();
        res.end('ok');
      });
      req.on('error', () => (entry.aborted = true));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    open.push({
      close: () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    });
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const lb = await lbOver({ upstreams: [{ id: 0, url }] });
    const until = async (check: () => boolean) => {
      const deadline = performance.now() + 2_000;
      while (!check() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      return check();
    };
    const head = (len: number) =>
      `POST /book HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${len}\r\n\r\n`;

    // Held: everything but the last byte. The replica gets the request and the body so far, not its end.
    const recording = lb.recordForwards();
    const client = connect(Number(lb.url.port), '127.0.0.1');
    let reply = '';
    client.on('data', (c: Buffer) => (reply += c.toString()));
    client.write(`${head(7)}{"a":1`);
    expect(await until(() => seen.length === 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen[0]!.body).toBeUndefined();
    const releasedAt = performance.now();
    client.write('}');
    expect(await until(() => seen[0]!.body !== undefined)).toBe(true);
    expect(seen[0]!.body).toBe('{"a":1}');
    expect(seen[0]!.headersAt).toBeLessThan(releasedAt);
    expect(await until(() => reply.includes('ok'))).toBe(true);
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    client.destroy();

    // A client that goes away mid-body: the replica's request is cut, never whole.
    const quitter = connect(Number(lb.url.port), '127.0.0.1');
    quitter.write(`${head(7)}{"a":`);
    expect(await until(() => seen.length === 2)).toBe(true);
    quitter.destroy();
    expect(await until(() => seen[1]!.aborted === true)).toBe(true);
    expect(seen[1]!.body).toBeUndefined();

    // Forwards recorded: the whole request once, when its held byte went through; not the cut one.
    const stamps = recording.stop();
    expect(stamps).toHaveLength(1);
    expect(stamps[0]).toBeGreaterThanOrEqual(releasedAt);
    expect(stamps[0]).toBeLessThanOrEqual(seen[0]!.bodyAt!);
    expect((await get(lb)).status).toBe(200);
    expect(stamps).toHaveLength(1);
  });

  it('a retry on the next replica resends the body received so far, then the rest, once', async () => {
    const up = await replicas(1);
    const dead = { id: 7, url: await deadUrl() };
    const lb = await lbOver({ upstreams: [dead, up[0]!] });
    const client = connect(Number(lb.url.port), '127.0.0.1');
    let reply = '';
    client.on('data', (c: Buffer) => (reply += c.toString()));
    client.write('POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 11\r\n\r\nhello');
    await new Promise((r) => setTimeout(r, 50));
    client.write(' world');
    const deadline = performance.now() + 2_000;
    // The replica answers chunked: wait for the last chunk.
    while (!reply.endsWith('0\r\n\r\n') && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    client.destroy();
    expect(reply).toMatch(/^HTTP\/1\.1 201/);
    expect(reply.toLowerCase()).toContain(`${REPLICA_HEADER}: 0`);
    expect(reply).toContain('"body":"hello world"');
    expect(lb.stats().retries).toBe(1);
  });
});
