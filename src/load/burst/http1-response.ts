/**
 * An incremental HTTP/1.1 response parser for the raw-socket sender (`last-byte.ts`), which cannot use
 * undici or `node:http` because it must own every byte it writes.
 *
 * ```
 * socket 'data' ──► push(chunk) ──► [complete responses, in order]
 * socket 'end'  ──► end()       ──► [the response whose body was delimited by the close, if any]
 * ```
 *
 * Message framing follows RFC 9112 §6.3, in its order of precedence:
 * 1. a response to HEAD, any 1xx, 204 and 304 has no body (1xx other than 101 are interim: skipped);
 * 2. `Transfer-Encoding` whose final coding is `chunked` → chunked body (§7.1), trailers read and dropped;
 * 3. `Content-Length` → exactly that many bytes (differing repeated values are an error);
 * 4. otherwise the body runs until the server closes the connection.
 *
 * Requests are pipelined in order, so the caller announces each request's method with `expect()` before
 * its response can arrive (only HEAD changes the framing). Limits: head at most `maxHeadBytes` (64 KiB).
 */

export interface Http1Response {
  status: number;
  reason: string;
  /** Header fields in arrival order, names in lower case. */
  headers: Array<[name: string, value: string]>;
  body: Buffer;
  /** False when the server announced `Connection: close` or the body was delimited by the close. */
  keepAlive: boolean;
}

/** A response that does not follow RFC 9112; `code` is stable, the message says where. */
export class Http1ParseError extends Error {
  override name = 'Http1ParseError';
  readonly code = 'HTTP_PARSE_ERROR';
}

type State =
  | { kind: 'head' }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunk-size' }
  | { kind: 'chunk-data'; remaining: number }
  | { kind: 'chunk-crlf' }
  | { kind: 'trailers' }
  | { kind: 'until-close' };

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');

export class Http1ResponseParser {
  private buffer: Buffer = Buffer.alloc(0);
  private state: State = { kind: 'head' };
  private readonly methods: string[] = [];
  private current?: Omit<Http1Response, 'body'>;
  private bodyParts: Buffer[] = [];

  constructor(private readonly maxHeadBytes = 64 * 1024) {}

  /** Announce the method of the next request written on this connection (order matters). */
  expect(method: string): void {
    this.methods.push(method.toUpperCase());
  }

  /** Feed bytes read from the socket; returns every response completed by them. Throws `Http1ParseError`. */
  push(chunk: Buffer): Http1Response[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const done: Http1Response[] = [];
    for (;;) {
      const response = this.step();
      if (response === 'need-more') break;
      if (response) done.push(response);
    }
    return done;
  }

  /**
   * The connection ended. Returns the response whose body ran until the close, if one was in progress;
   * throws `Http1ParseError` if the close cut a response short (the caller records that as an error).
   */
  end(): Http1Response | undefined {
    if (this.state.kind === 'until-close') {
      this.bodyParts.push(this.buffer);
      this.buffer = Buffer.alloc(0);
      return this.finish(false);
    }
    if (this.state.kind === 'head' && this.buffer.length === 0) return undefined;
    throw new Http1ParseError(`connection closed inside a response (${this.state.kind})`);
  }

  /** True while a response is partly read (so a close now loses it). */
  get midResponse(): boolean {
    return this.state.kind !== 'head' || this.buffer.length > 0;
  }

  /** One parsing step: a finished response, undefined (progress, go on) or 'need-more'. */
  private step(): Http1Response | undefined | 'need-more' {
    const state = this.state;
    switch (state.kind) {
      case 'head':
        return this.parseHead();
      case 'length': {
        const take = Math.min(state.remaining, this.buffer.length);
        if (take === 0 && state.remaining > 0) return 'need-more';
        this.bodyParts.push(this.buffer.subarray(0, take));
        this.buffer = this.buffer.subarray(take);
        state.remaining -= take;
        return state.remaining === 0 ? this.finish() : 'need-more';
      }
      case 'chunk-size': {
        const eol = this.buffer.indexOf(CRLF);
        if (eol < 0) {
          if (this.buffer.length > 1024) throw new Http1ParseError('chunk-size line longer than 1 KiB');
          return 'need-more';
        }
        const line = this.buffer.subarray(0, eol).toString('latin1');
        this.buffer = this.buffer.subarray(eol + 2);
        const hex = line.split(';', 1)[0]!.trim();
        if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new Http1ParseError(`bad chunk size '${line}'`);
        const size = Number.parseInt(hex, 16);
        this.state = size === 0 ? { kind: 'trailers' } : { kind: 'chunk-data', remaining: size };
        return undefined;
      }
      case 'chunk-data': {
        const take = Math.min(state.remaining, this.buffer.length);
        if (take === 0) return 'need-more';
        this.bodyParts.push(this.buffer.subarray(0, take));
        this.buffer = this.buffer.subarray(take);
        state.remaining -= take;
        if (state.remaining === 0) this.state = { kind: 'chunk-crlf' };
        return undefined;
      }
      case 'chunk-crlf': {
        if (this.buffer.length < 2) return 'need-more';
        if (this.buffer[0] !== 0x0d || this.buffer[1] !== 0x0a) {
          throw new Http1ParseError('chunk data not followed by CRLF');
        }
        this.buffer = this.buffer.subarray(2);
        this.state = { kind: 'chunk-size' };
        return undefined;
      }
      case 'trailers': {
        const eol = this.buffer.indexOf(CRLF);
        if (eol < 0) {
          if (this.buffer.length > this.maxHeadBytes) throw new Http1ParseError('trailers too long');
          return 'need-more';
        }
        this.buffer = this.buffer.subarray(eol + 2);
        return eol === 0 ? this.finish() : undefined; // an empty line ends the trailer section
      }
      case 'until-close':
        this.bodyParts.push(this.buffer);
        this.buffer = Buffer.alloc(0);
        return 'need-more';
    }
  }

  private parseHead(): Http1Response | undefined | 'need-more' {
    if (this.buffer.length === 0) return 'need-more';
    const end = this.buffer.indexOf(CRLFCRLF);
    if (end < 0) {
      if (this.buffer.length > this.maxHeadBytes) {
        throw new Http1ParseError(`response head longer than ${this.maxHeadBytes} bytes`);
      }
      return 'need-more';
    }
    const lines = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    this.buffer = this.buffer.subarray(end + 4);
    const statusLine = lines[0]!;
    const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(statusLine);
    if (!m) throw new Http1ParseError(`bad status line '${statusLine.slice(0, 80)}'`);
    const minor = m[1]!;
    const status = Number(m[2]);
    const headers: Array<[string, string]> = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Http1ParseError(`bad header line '${line.slice(0, 80)}'`);
      if (line[0] === ' ' || line[0] === '\t') throw new Http1ParseError('obsolete line folding');
      headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
    }
    if (status >= 100 && status < 200 && status !== 101) return undefined; // interim: the final one follows

    const method = this.methods.shift();
    const connection = headerList(headers, 'connection');
    const keepAlive = minor === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    this.current = { status, reason: m[3] ?? '', headers, keepAlive };
    this.bodyParts = [];

    if (method === 'HEAD' || status === 101 || status === 204 || status === 304) return this.finish();
    const te = headerList(headers, 'transfer-encoding');
    if (te.length > 0) {
      if (te[te.length - 1] !== 'chunked') {
        this.state = { kind: 'until-close' };
        return undefined;
      }
      this.state = { kind: 'chunk-size' };
      return undefined;
    }
    const lengths = new Set(headerList(headers, 'content-length'));
    if (lengths.size > 1) throw new Http1ParseError(`conflicting Content-Length ${[...lengths].join(', ')}`);
    if (lengths.size === 1) {
      const text = [...lengths][0]!;
      if (!/^\d{1,15}$/.test(text)) throw new Http1ParseError(`bad Content-Length '${text}'`);
      const length = Number(text);
      if (length === 0) return this.finish();
      this.state = { kind: 'length', remaining: length };
      return undefined;
    }
    this.state = { kind: 'until-close' };
    return undefined;
  }

  private finish(keepAlive = true): Http1Response {
    const head = this.current!;
    this.current = undefined;
    this.state = { kind: 'head' };
    const body = this.bodyParts.length === 1 ? this.bodyParts[0]! : Buffer.concat(this.bodyParts);
    this.bodyParts = [];
    return { ...head, keepAlive: head.keepAlive && keepAlive, body: Buffer.from(body) };
  }
}

/** All comma-separated, lower-cased values of header `name`. */
function headerList(headers: ReadonlyArray<[string, string]>, name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) {
    if (n !== name) continue;
    for (const part of v.split(',')) {
      const t = part.trim().toLowerCase();
      if (t) out.push(t);
    }
  }
  return out;
}
