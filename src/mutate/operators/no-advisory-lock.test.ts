import { describe, expect, test } from 'vitest';
import { mutantsOf } from '../test-support.js';
import { noAdvisoryLock } from './no-advisory-lock.js';

describe('no-advisory-lock', () => {
  test('a void lock becomes a void no-op that keeps the column name and the parameter', () => {
    expect(mutantsOf('SELECT pg_advisory_xact_lock($1)', noAdvisoryLock)).toEqual([
      {
        clause: 'pg_advisory_xact_lock($1)',
        sql: "SELECT CASE WHEN CAST($1 AS bigint) IS NULL THEN NULL ELSE CAST('' AS void) END AS pg_advisory_xact_lock",
      },
    ]);
    expect(mutantsOf('SELECT pg_catalog.pg_advisory_lock(42)', noAdvisoryLock)).toEqual([
      {
        clause: 'pg_catalog.pg_advisory_lock(42)',
        sql: "SELECT CASE WHEN CAST(42 AS bigint) IS NULL THEN NULL ELSE CAST('' AS void) END AS pg_advisory_lock",
      },
    ]);
  });

  test('a try-lock returns true ("granted"); two int keys are cast to int; an alias stays', () => {
    expect(mutantsOf('SELECT pg_try_advisory_xact_lock($1, $2) AS got', noAdvisoryLock)).toEqual([
      {
        clause: 'pg_try_advisory_xact_lock($1, $2)',
        sql: 'SELECT CASE WHEN CAST($1 AS int) IS NULL OR CAST($2 AS int) IS NULL THEN NULL ELSE true END AS got',
      },
    ]);
  });

  test('a call anywhere in the statement, one site each; unlocks are not sites', () => {
    const sql =
      'SELECT id FROM jobs WHERE pg_try_advisory_lock(id) AND pg_try_advisory_lock_shared(hashtext($1)) LIMIT 1';
    const m = mutantsOf(sql, noAdvisoryLock);
    expect(m.map((x) => x.clause)).toEqual([
      'pg_try_advisory_lock(id)',
      'pg_try_advisory_lock_shared(hashtext($1))',
    ]);
    expect(m[0]).toMatchObject({
      sql: 'SELECT id FROM jobs WHERE CASE WHEN CAST(id AS bigint) IS NULL THEN NULL ELSE true END AND pg_try_advisory_lock_shared(hashtext($1)) LIMIT 1',
    });
    expect(mutantsOf('SELECT pg_advisory_unlock($1), pg_advisory_unlock_all()', noAdvisoryLock)).toEqual([]);
    expect(mutantsOf('SELECT myschema.pg_advisory_lock($1)', noAdvisoryLock)).toEqual([]);
  });
});
