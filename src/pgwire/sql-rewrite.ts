/**
 * Replacing the SQL of a client's simple `Query` or extended `Parse` on its way through the protocol proxy
 * (used to run SQL mutants, docs/mutants.md). The message is re-framed with its new length; a Parse keeps
 * its statement name and its parameter type OIDs byte for byte. Every other message, and a message the
 * hook leaves alone (it returns `undefined` or the same text), keeps its exact bytes.
 *
 * Source: PostgreSQL documentation, "Frontend/Backend Protocol" → "Message Formats" (Query, Parse).
 */
import { decodeFrontend, Frontend } from './frontend-messages.js';

/**
 * Gives the SQL to send instead of `sql`, or `undefined` to send it unchanged. Called once per Query and
 * Parse message, synchronously, in the order the client sent them; it may also just observe.
 */
export type SqlRewrite = (sql: string, message: 'Query' | 'Parse') => string | undefined;

/** `raw` (a whole tagged frontend message) with its SQL rewritten, or `raw` itself when nothing changes. */
export function rewriteFrontendSql(raw: Buffer, rewrite: SqlRewrite): Buffer {
  const code = raw[0];
  if (code !== Frontend.Query && code !== Frontend.Parse) return raw;
  const m = decodeFrontend(raw);
  if (m.type === 'Query') {
    const sql = rewrite(m.sql, 'Query');
    if (sql === undefined || sql === m.sql) return raw;
    return frame(Frontend.Query, [cstring(sql)]);
  }
  if (m.type !== 'Parse') return raw;
  const sql = rewrite(m.sql, 'Parse');
  if (sql === undefined || sql === m.sql) return raw;
  // After type byte, length, name\0 and sql\0: the int16 count and the OIDs, kept as they came.
  const nameBytes = Buffer.byteLength(m.statement) + 1;
  const sqlBytes = Buffer.byteLength(m.sql) + 1;
  const tail = raw.subarray(5 + nameBytes + sqlBytes);
  return frame(Frontend.Parse, [cstring(m.statement), cstring(sql), tail]);
}

function cstring(s: string): Buffer {
  if (s.includes('\0')) throw new Error('SQL text with a NUL byte cannot be sent in a protocol message');
  return Buffer.from(`${s}\0`, 'utf8');
}

function frame(code: number, parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head[0] = code;
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
