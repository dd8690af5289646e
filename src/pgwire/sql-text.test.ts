import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NORMALIZED_CHARS, normalizeSql } from './sql-text.js';

describe('normalizeSql', () => {
  it('collapses whitespace, drops comments, keeps $n and literals in text', () => {
    const n = normalizeSql(
      '  SELECT  *\n\tFROM jobs -- all of them\n WHERE id = $1 /* a /* nested */ one */ AND x = 2 ',
    );
    expect(n.text).toBe('SELECT * FROM jobs WHERE id = $1 AND x = 2');
    expect(n.shape).toBe('SELECT * FROM jobs WHERE id = $1 AND x = $2');
    expect(n.truncated).toBe(false);
  });

  it('replaces string and number literals in shape, numbered after the highest parameter', () => {
    const n = normalizeSql(`UPDATE jobs SET state = 'done', n = 3.5e2 WHERE id = $2 AND tag = E'it\\'s'`);
    expect(n.shape).toBe('UPDATE jobs SET state = $3, n = $4 WHERE id = $2 AND tag = $5');
    expect(n.text).toBe(`UPDATE jobs SET state = 'done', n = 3.5e2 WHERE id = $2 AND tag = E'it\\'s'`);
  });

  it('does not take ; or -- inside literals, quoted identifiers or dollar quotes for syntax', () => {
    const sql = `SELECT 'a;--b', "we;ird""col", $fn$ x; -- y $fn$, $$;$$; SELECT 2`;
    const n = normalizeSql(sql);
    expect(n.statements.map((s) => s.text)).toEqual([
      `SELECT 'a;--b', "we;ird""col", $fn$ x; -- y $fn$, $$;$$`,
      'SELECT 2',
    ]);
    expect(n.statements.map((s) => s.shape)).toEqual([`SELECT $1, "we;ird""col", $2, $3`, 'SELECT $1']);
  });

  it('splits a multi-statement query and skips empty statements', () => {
    const n = normalizeSql('BEGIN;; UPDATE t SET a = 1 ; COMMIT;');
    expect(n.statements.map((s) => s.text)).toEqual(['BEGIN', 'UPDATE t SET a = 1', 'COMMIT']);
  });

  it('leaves digits in identifiers and $ in identifiers alone', () => {
    expect(normalizeSql('SELECT t1.col2, a$b FROM t1').shape).toBe('SELECT t1.col2, a$b FROM t1');
    expect(normalizeSql("SELECT x'1F', b'101', 0x1F, 1_000, .5").shape).toBe('SELECT $1, $2, $3, $4, $5');
  });

  it('reads only the first MAX_NORMALIZED_CHARS characters of a huge statement', () => {
    const n = normalizeSql(`INSERT INTO t VALUES ${'(1),'.repeat(MAX_NORMALIZED_CHARS)}(1)`);
    expect(n.truncated).toBe(true);
    expect(n.text.length).toBeLessThanOrEqual(MAX_NORMALIZED_CHARS);
  });

  it('never throws, and text never has doubled or edge spaces', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const n = normalizeSql(s);
        expect(n.text).toBe(n.text.trim());
        expect(n.text.includes('  ')).toBe(false);
      }),
    );
  });
});
