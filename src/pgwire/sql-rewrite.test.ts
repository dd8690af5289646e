import { describe, expect, it } from 'vitest';
import { decodeFrontend } from './frontend-messages.js';
import { rewriteFrontendSql } from './sql-rewrite.js';

function parse(name: string, sql: string, oids: number[]): Buffer {
  const tail = Buffer.alloc(2 + 4 * oids.length);
  tail.writeInt16BE(oids.length, 0);
  for (const [i, o] of oids.entries()) tail.writeUInt32BE(o, 2 + 4 * i);
  const body = Buffer.concat([Buffer.from(`${name}\0${sql}\0`), tail]);
  const head = Buffer.from([0x50, 0, 0, 0, 0]);
  head.writeUInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

describe('rewriteFrontendSql', () => {
  it('re-frames a Parse with the new SQL, keeping its name and parameter type OIDs', () => {
    const raw = parse('s1', 'SELECT status FROM jobs WHERE id = $1 FOR UPDATE', [23]);
    const out = rewriteFrontendSql(raw, () => 'SELECT status FROM jobs WHERE id = $1');
    expect(out.readUInt32BE(1)).toBe(out.length - 1);
    expect(decodeFrontend(out)).toEqual({
      type: 'Parse',
      statement: 's1',
      sql: 'SELECT status FROM jobs WHERE id = $1',
      paramTypes: [23],
    });
  });
  it('re-frames a simple Query (multi-byte text counts in bytes)', () => {
    const raw = Buffer.concat([Buffer.from([0x51, 0, 0, 0, 13]), Buffer.from('SELECT 1;\0')]);
    const out = rewriteFrontendSql(raw, () => "SELECT 'é'");
    expect(out.readUInt32BE(1)).toBe(out.length - 1);
    expect(decodeFrontend(out)).toEqual({ type: 'Query', sql: "SELECT 'é'" });
  });
  it('keeps the very same bytes when the hook leaves the SQL alone', () => {
    const raw = parse('', 'SELECT 1', []);
    expect(rewriteFrontendSql(raw, () => undefined)).toBe(raw);
    expect(rewriteFrontendSql(raw, (s) => s)).toBe(raw);
  });
});
