import { describe, expect, test } from 'vitest';
import { mutantsOf } from '../test-support.js';
import { dropRowLock } from './drop-row-lock.js';

describe('drop-row-lock', () => {
  test('removes each lock strength with its OF, NOWAIT and SKIP LOCKED', () => {
    expect(mutantsOf('SELECT status FROM jobs WHERE id = $1 FOR UPDATE', dropRowLock)).toEqual([
      { clause: 'FOR UPDATE', sql: 'SELECT status FROM jobs WHERE id = $1' },
    ]);
    for (const clause of [
      'FOR NO KEY UPDATE',
      'FOR SHARE',
      'FOR KEY SHARE',
      'FOR UPDATE NOWAIT',
      'FOR UPDATE SKIP LOCKED',
      'FOR NO KEY UPDATE OF j SKIP LOCKED',
    ]) {
      expect(mutantsOf(`SELECT j.id FROM jobs j WHERE j.id = $1 ${clause}`, dropRowLock)).toEqual([
        { clause, sql: 'SELECT j.id FROM jobs AS j WHERE j.id = $1' },
      ]);
    }
  });

  test('one site per clause, in a subquery too; the others stay', () => {
    const sql = 'SELECT * FROM a JOIN b ON a.id = b.a FOR UPDATE OF a FOR SHARE OF b';
    expect(mutantsOf(sql, dropRowLock)).toEqual([
      { clause: 'FOR UPDATE OF a', sql: 'SELECT * FROM a JOIN b ON a.id = b.a FOR SHARE OF b' },
      { clause: 'FOR SHARE OF b', sql: 'SELECT * FROM a JOIN b ON a.id = b.a FOR UPDATE OF a' },
    ]);
    const claim =
      "UPDATE jobs SET status = 'running' WHERE id = (SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id";
    expect(mutantsOf(claim, dropRowLock)).toEqual([
      {
        clause: 'FOR UPDATE SKIP LOCKED',
        // The deparser doubles the subquery's parentheses: the same tree (checked by the runner).
        sql: "UPDATE jobs SET status = 'running' WHERE id = ((SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1)) RETURNING id",
      },
    ]);
  });

  test('no site without a row lock', () => {
    expect(mutantsOf('SELECT status FROM jobs WHERE id = $1', dropRowLock)).toEqual([]);
    expect(mutantsOf('LOCK TABLE jobs IN EXCLUSIVE MODE', dropRowLock)).toEqual([]);
  });
});
