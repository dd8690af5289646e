/**
 * Send one HTTP request on a connection of its own and read its answer (status, first 512 bytes of the
 * body). A failure without a response becomes `error` (`ECONNREFUSED`, `ECONNRESET`, …), never a throw.
 */
import { request } from 'node:http';
import type { PreparedRequest, RequestRecord } from '../load/types.js';

export type SentRequest = Pick<RequestRecord, 'status' | 'body' | 'error'>;

const BODY_KEEP = 512;

export function sendRequest(base: URL, req: PreparedRequest, signal: AbortSignal): Promise<SentRequest> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { ...req.headers, connection: 'close' };
    if (req.body) headers['content-length'] = req.body.length;
    const r = request(
      {
        host: base.hostname,
        port: base.port,
        method: req.method,
        path: req.path,
        headers,
        agent: false,
        signal,
      },
      (res) => {
        const kept: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < BODY_KEEP) kept.push(c.subarray(0, BODY_KEEP - size));
          size += c.length;
        });
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(kept).toString('utf8') }));
        res.on('error', (e) =>
          resolve({ status: res.statusCode, error: (e as NodeJS.ErrnoException).code ?? e.message }),
        );
      },
    );
    r.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }));
    r.end(req.body);
  });
}
