import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1ParseError, type Http1Response, Http1ResponseParser } from './http1-response.js';

/** Feed `text` one byte at a time (the hardest split) and collect every response. */
function parseBytewise(text: string | Buffer, methods: string[] = ['GET']): Http1Response[] {
  const parser = new Http1ResponseParser();
  for (const m of methods) parser.expect(m);
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1');
  const out: Http1Response[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(...parser.push(bytes.subarray(i, i + 1)));
  const last = parser.end();
  if (last) out.push(last);
  return out;
}

describe('Http1ResponseParser', () => {
  it('reads a Content-Length body, split at every byte', () => {
    const [r] = parseBytewise('HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello');
    expect(r?.status).toBe(201);
    expect(r?.reason).toBe('Created');
    expect(r?.headers).toContainEqual(['x-a', 'b']);
    expect(r?.body.toString()).toBe('hello');
    expect(r?.keepAlive).toBe(true);
  });

  it('reads a chunked body with extensions and trailers', () => {
    const text =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n';
    const [r] = parseBytewise(text);
    expect(r?.body.toString()).toBe('Wikipedia in\r\n\r\nchunks.');
  });

  it('returns two pipelined responses from one chunk, HEAD without body', () => {
    const parser = new Http1ResponseParser();
    parser.expect('HEAD');
    parser.expect('GET');
    const out = parser.push(
      Buffer.from(
        'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno',
      ),
    );
    expect(out.map((r) => [r.status, r.body.toString()])).toEqual([
      [200, ''],
      [404, 'no'],
    ]);
  });

  it('skips 100 Continue, gives 204 and 304 no body', () => {
    const out = parseBytewise(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n',
      ['POST', 'GET'],
    );
    expect(out.map((r) => r.status)).toEqual([204, 304]);
  });

  it('reads a close-delimited body at end()', () => {
    const [r] = parseBytewise('HTTP/1.0 200 OK\r\n\r\nuntil the end');
    expect(r?.body.toString()).toBe('until the end');
    expect(r?.keepAlive).toBe(false);
  });

  it('honours Connection: close', () => {
    const [r] = parseBytewise('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    expect(r?.keepAlive).toBe(false);
  });

  it('rejects malformed responses and a close inside a body', () => {
    expect(() => parseBytewise('HTTP/2 200\r\n\r\n')).toThrow(Http1ParseError);
    expect(() =>
      parseBytewise('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'),
    ).toThrow(/conflicting/);
    expect(() => parseBytewise('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort')).toThrow(/closed inside/);
    expect(() => parseBytewise('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')).toThrow(
      /chunk size/,
    );
  });

  describe('against node:http', () => {
    let server: Server | undefined;
    afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

    it('parses what a real server sends: chunked, fixed length, keep-alive', async () => {
      server = createServer((req, res) => {
        if (req.url === '/chunked') {
          res.write('a'.repeat(3000));
          setImmediate(() => res.end('b'.repeat(70_000)));
        } else {
          res.setHeader('content-type', 'text/plain');
          res.end('fixed');
        }
      });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      const socket = connect(port, '127.0.0.1');
      const parser = new Http1ResponseParser();
      const responses: Http1Response[] = [];
      const twoDone = new Promise<void>((resolve) => {
        socket.on('data', (chunk) => {
          responses.push(...parser.push(chunk));
          if (responses.length === 2) resolve();
        });
      });
      for (const path of ['/chunked', '/fixed']) {
        parser.expect('GET');
        socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      }
      await twoDone;
      socket.destroy();
      expect(responses[0]?.body.toString()).toBe('a'.repeat(3000) + 'b'.repeat(70_000));
      expect(responses[0]?.headers).toContainEqual(['transfer-encoding', 'chunked']);
      expect(responses[1]?.body.toString()).toBe('fixed');
      expect(responses.every((r) => r.status === 200 && r.keepAlive)).toBe(true);
    });
  });
});
