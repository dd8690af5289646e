import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { PreparedRequest, RequestRecord } from '../types.js';
import { type Http1Response, Http1ResponseParser } from './http1-response.js';
import { bodySnippet } from './sender.js';

/**
 * One HTTP/1.1 connection on a raw socket, owned byte for byte: the `last-byte` sender writes a request in
 * two parts and needs to know exactly what was on the wire when. Responses are read with
 * `Http1ResponseParser`; a connection that fails fails every response still awaited on it, with a short
 * stable code:
 *
 * - the socket's errno code (`ECONNRESET`, `ECONNREFUSED`, `EPIPE` …) for socket errors;
 * - `SOCKET_CLOSED` when the target closed the connection before a complete response;
 * - `HTTP_PARSE_ERROR` when the response does not follow RFC 9112;
 * - whatever code `fail()` is given (the sender uses `TIMEOUT`).
 */
export class RawHttp1Connection {
  private readonly parser = new Http1ResponseParser();
  private readonly waiters: Array<{
    resolve: (r: Http1Response) => void;
    reject: (e: ConnectionFailure) => void;
  }> = [];
  /** Set once the connection is unusable; the code every later response gets. */
  failure?: string;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const response of this.parser.push(chunk)) this.waiters.shift()?.resolve(response);
      } catch (err) {
        this.fail((err as { code?: string }).code ?? 'HTTP_PARSE_ERROR');
      }
    });
    socket.on('end', () => {
      try {
        const last = this.parser.end();
        if (last) this.waiters.shift()?.resolve(last);
      } catch {
        // cut short: reported as SOCKET_CLOSED below
      }
      this.fail('SOCKET_CLOSED');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err.code ?? err.message));
    socket.on('close', () => this.fail('SOCKET_CLOSED'));
  }

  /**
   * Connect to `url`'s origin (TLS for `https:`, certificates not verified: targets are local test
   * servers), with Nagle's algorithm off so every write leaves at once. Rejects with a
   * `ConnectionFailure` on a socket error, or after `timeoutMs` ms if given (a burst's phases set one
   * deadline for all their connections instead, `phase.ts`).
   */
  static open(
    url: URL,
    timeoutMs: number | undefined,
    onSocket: (s: Socket) => void,
  ): Promise<RawHttp1Connection> {
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const socket =
      url.protocol === 'https:'
        ? tlsConnect({ host, port, servername: host, ALPNProtocols: ['http/1.1'], rejectUnauthorized: false })
        : netConnect({ host, port });
    onSocket(socket);
    socket.setNoDelay(true);
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              socket.destroy();
              reject(new ConnectionFailure('TIMEOUT', `connect to ${url.origin} timed out`));
            }, timeoutMs);
      const onError = (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new ConnectionFailure(err.code ?? 'ECONNECT', `connect to ${url.origin}: ${err.message}`));
      };
      socket.once('error', onError);
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(new RawHttp1Connection(socket));
      });
    });
  }

  /**
   * Promise of the next response on this connection, to a request with `method`. Call before writing the
   * request so an early response (e.g. a 400 to a partial request) is not missed.
   */
  response(method: string): Promise<Http1Response> {
    if (this.failure) return Promise.reject(new ConnectionFailure(this.failure));
    this.parser.expect(method);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Write bytes; resolves when they are handed to the kernel, rejects on a write error. */
  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.write(bytes, (err) =>
        err ? reject(new ConnectionFailure((err as NodeJS.ErrnoException).code ?? 'EPIPE')) : resolve(),
      ),
    );
  }

  /** Mark the connection failed with `code`, reject everything awaited on it and destroy the socket. */
  fail(code: string): void {
    if (!this.failure) this.failure = code;
    for (const w of this.waiters.splice(0)) w.reject(new ConnectionFailure(this.failure));
    this.socket.destroy();
  }
}

/** A request that failed without a response; `code` goes into `RequestRecord.error`. */
export class ConnectionFailure extends Error {
  override name = 'ConnectionFailure';
  constructor(
    readonly code: string,
    message: string = code,
  ) {
    super(message);
  }
}

/**
 * The record of one released request once its response settles: status, latency since release and a
 * body snippet, or the failure code. Shared by the raw-socket senders (last-byte, single-packet).
 */
export async function settleRecord(
  base: { index: number; connection: number; sentAtMs: number },
  response: Promise<{ status: number; body: Buffer }>,
  clock: () => number,
): Promise<RequestRecord> {
  try {
    const res = await response;
    return {
      ...base,
      status: res.status,
      latencyMs: clock() - base.sentAtMs,
      body: bodySnippet(res.body.toString('utf8')),
    };
  } catch (err) {
    return { ...base, error: err instanceof ConnectionFailure ? err.code : String(err) };
  }
}

/** `p`, or a `TIMEOUT` failure of `conn` (failing every response awaited on it) after `ms` ms. */
export async function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  conn: { fail(code: string): void },
): Promise<T> {
  const timer = setTimeout(() => conn.fail('TIMEOUT'), ms);
  try {
    return await p;
  } finally {
    clearTimeout(timer);
  }
}

const SET_BY_SENDER = new Set(['host', 'content-length', 'connection', 'transfer-encoding']);
const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The bytes of `request` as an HTTP/1.1 message (RFC 9112 §3–§6): request line, `host`, the request's
 * headers, `content-length` when there is a body (0 for a bodiless POST/PUT/PATCH), `connection:
 * keep-alive`, the empty line, the body. Throws on CR/LF in a header (no request smuggling by template).
 */
export function serializeRequest(request: PreparedRequest, host: string): Buffer {
  const lines = [`${request.method.toUpperCase()} ${request.path} HTTP/1.1`, `host: ${host}`];
  for (const [name, value] of Object.entries(request.headers)) {
    if (SET_BY_SENDER.has(name.toLowerCase())) continue;
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
      throw new Error(`header '${name}' of request ${request.index} contains CR or LF`);
    }
    lines.push(`${name}: ${value}`);
  }
  if (request.body !== undefined) lines.push(`content-length: ${request.body.length}`);
  else if (METHODS_WITH_BODY.has(request.method.toUpperCase())) lines.push('content-length: 0');
  lines.push('connection: keep-alive', '', '');
  const head = Buffer.from(lines.join('\r\n'), 'latin1');
  return request.body ? Buffer.concat([head, request.body]) : head;
}
