import { describe, expect, test } from 'vitest';
import { loadSqlParser, parseSql, sameTree, spliceSql } from './sql-parser.js';

await loadSqlParser();

describe('parseSql', () => {
  test('statements with UTF-8 byte offsets, trimmed text and fingerprints', () => {
    const sql = "  SELECT 'é' AS x ;\n-- c\nSELECT 1 FOR UPDATE";
    const p = parseSql(sql);
    if (!p.ok) throw new Error(p.error);
    // A statement starts at its first token: the comment before it belongs to no statement.
    expect(p.statements.map((s) => s.text)).toEqual(["SELECT 'é' AS x", 'SELECT 1 FOR UPDATE']);
    const bytes = Buffer.from(sql);
    for (const s of p.statements) {
      expect(bytes.subarray(s.startByte, s.endByte).toString().trim()).toBe(s.text);
    }
    // The fingerprint ignores literal values, parameter numbers, whitespace, comments and keyword case.
    const fp = (q: string) =>
      (parseSql(q) as { statements: { fingerprint: string }[] }).statements[0]!.fingerprint;
    expect(fp('select 2 for update')).toBe(p.statements[1]!.fingerprint);
    expect(fp('SELECT $3 FOR UPDATE')).toBe(p.statements[1]!.fingerprint);
    expect(fp('SELECT 1')).not.toBe(p.statements[1]!.fingerprint);
  });

  test('bad SQL is an outcome with the parser’s message, not an exception', () => {
    expect(parseSql('SELEC 1')).toEqual({
      ok: false,
      error: 'syntax error at or near "SELEC"',
      cursorPosition: 0,
    });
    for (const empty of ['', '  ', ';', '-- only a comment']) {
      expect(parseSql(empty)).toEqual({ ok: true, statements: [] });
    }
  });
});

test('spliceSql replaces byte ranges and keeps every other byte', () => {
  const sql = 'é1;é2;é3';
  // 'é' is 2 bytes: statement 2 is bytes 4..7.
  expect(spliceSql(sql, [{ startByte: 4, endByte: 7, text: 'ü' }])).toBe('é1;ü;é3');
  expect(
    spliceSql(sql, [
      { startByte: 8, endByte: 11, text: 'c' },
      { startByte: 0, endByte: 3, text: 'a' },
    ]),
  ).toBe('a;é2;c');
});

test('sameTree ignores locations and field order, nothing else', () => {
  expect(sameTree({ A: { x: 1, location: 3, y: [2] } }, { A: { y: [2], x: 1, location: 9 } })).toBe(true);
  expect(sameTree({ A: { x: 1 } }, { A: { x: 2 } })).toBe(false);
  expect(sameTree({ A: { x: 1 } }, { A: { x: 1, z: 0 } })).toBe(false);
});
