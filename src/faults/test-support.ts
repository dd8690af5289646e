/**
 * Real-socket helpers for the fault tests: small TCP servers, a client that records what it received and
 * when, and a cleanup stack. Used by `*.test.ts` in this folder only.
 */
import { once } from 'node:events';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type StartedProxy, startProxy } from './proxy.js';

export interface TestServer {
  readonly port: number;
  /** Sockets the server accepted, in order. */
  readonly accepted: Socket[];
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 (ephemeral port) that hands each socket to `onSocket`. */
export async function tcpServer(onSocket: (s: Socket) => void): Promise<TestServer> {
  const accepted: Socket[] = [];
  const server = createServer({ allowHalfOpen: true }, (s) => {
    accepted.push(s);
    s.on('error', () => {});
    onSocket(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    port,
    accepted,
    close: async () => {
      for (const s of accepted) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Echoes every byte back and half-closes when the client does. */
export function echoServer(): Promise<TestServer> {
  return tcpServer((s) => s.pipe(s));
}

/** Connect to 127.0.0.1:port; rejects on connection errors (e.g. ECONNREFUSED). */
export async function connect(port: number): Promise<Socket> {
  const s = tcpConnect({ host: '127.0.0.1', port });
  s.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('error', reject);
  });
  return s;
}

/** What a client socket received until it closed. Times are `performance.now()` ms. */
export interface Received {
  data: Buffer;
  /** Number of `data` events. */
  chunks: number;
  firstDataAtMs: number | undefined;
  /** When the peer's FIN arrived, if it did. */
  endAtMs: number | undefined;
  closeAtMs: number;
  /** Error code seen, e.g. `ECONNRESET`. */
  errorCode: string | undefined;
}

/** Collect everything `s` receives; resolves when it closes. */
export function receiveAll(s: Socket): Promise<Received> {
  const parts: Buffer[] = [];
  const r: Omit<Received, 'data' | 'closeAtMs'> = {
    chunks: 0,
    firstDataAtMs: undefined,
    endAtMs: undefined,
    errorCode: undefined,
  };
  s.on('data', (b: Buffer) => {
    r.firstDataAtMs ??= performance.now();
    r.chunks++;
    parts.push(b);
  });
  s.on('end', () => {
    r.endAtMs = performance.now();
  });
  s.on('error', (e: NodeJS.ErrnoException) => {
    r.errorCode ??= e.code ?? e.message;
  });
  return new Promise((resolve) => {
    s.once('close', () => resolve({ ...r, data: Buffer.concat(parts), closeAtMs: performance.now() }));
  });
}

/** Resolves once `s` has received at least `n` bytes (rejects if it closes first). */
export function receiveBytes(s: Socket, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  return new Promise((resolve, reject) => {
    const onData = (b: Buffer) => {
      parts.push(b);
      got += b.length;
      if (got >= n) {
        s.off('data', onData);
        s.off('close', onClose);
        resolve(Buffer.concat(parts));
      }
    };
    const onClose = () => reject(new Error(`closed after ${got} of ${n} bytes`));
    s.on('data', onData);
    s.once('close', onClose);
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Cleanups run in reverse order; use with `afterEach(() => cleanups.run())`. */
export class Cleanups {
  #fns: (() => unknown)[] = [];
  add<T extends { close(): Promise<void> } | AsyncDisposable>(thing: T): T {
    this.#fns.push(() => ('close' in thing ? thing.close() : thing[Symbol.asyncDispose]()));
    return thing;
  }
  defer(fn: () => unknown): void {
    this.#fns.push(fn);
  }
  async run(): Promise<void> {
    const fns = this.#fns.reverse();
    this.#fns = [];
    for (const fn of fns) await fn();
  }
}

/** A proxy in front of `server` (default: a new echo server), both cleaned up by `cleanups`. */
export async function proxyTo(
  cleanups: Cleanups,
  server?: TestServer,
  seed?: number,
): Promise<{ proxy: StartedProxy; server: TestServer }> {
  const upstream = server ?? cleanups.add(await echoServer());
  const proxy = cleanups.add(
    await startProxy({ name: 'test', upstream: { host: '127.0.0.1', port: upstream.port }, seed }),
  );
  return { proxy, server: upstream };
}
