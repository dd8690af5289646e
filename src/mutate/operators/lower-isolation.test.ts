import { describe, expect, test } from 'vitest';
import { mutantsOf } from '../test-support.js';
import { lowerIsolation } from './lower-isolation.js';

describe('lower-isolation', () => {
  test('BEGIN / START TRANSACTION / SET TRANSACTION / SESSION CHARACTERISTICS, other options kept', () => {
    const cases: [string, string, string][] = [
      [
        'BEGIN ISOLATION LEVEL SERIALIZABLE',
        'ISOLATION LEVEL SERIALIZABLE',
        'BEGIN ISOLATION LEVEL READ COMMITTED',
      ],
      [
        'begin transaction isolation level repeatable read',
        'ISOLATION LEVEL REPEATABLE READ',
        'BEGIN ISOLATION LEVEL READ COMMITTED',
      ],
      [
        'START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE',
        'ISOLATION LEVEL SERIALIZABLE',
        'START TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY, DEFERRABLE',
      ],
      [
        'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ',
        'ISOLATION LEVEL REPEATABLE READ',
        'SET TRANSACTION ISOLATION LEVEL READ COMMITTED',
      ],
      [
        'SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE',
        'ISOLATION LEVEL SERIALIZABLE',
        'SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED',
      ],
    ];
    for (const [sql, clause, mutant] of cases) {
      expect(mutantsOf(sql, lowerIsolation), sql).toEqual([{ clause, sql: mutant }]);
    }
  });

  test('SET default_transaction_isolation / transaction_isolation, SESSION or LOCAL', () => {
    expect(mutantsOf("SET default_transaction_isolation = 'serializable'", lowerIsolation)).toEqual([
      {
        clause: "default_transaction_isolation = 'serializable'",
        sql: "SET default_transaction_isolation TO 'read committed'",
      },
    ]);
    expect(mutantsOf("SET LOCAL transaction_isolation TO 'repeatable read'", lowerIsolation)).toEqual([
      {
        clause: "transaction_isolation = 'repeatable read'",
        sql: "SET LOCAL transaction_isolation TO 'read committed'",
      },
    ]);
    expect(
      mutantsOf('SET SESSION default_transaction_isolation TO serializable', lowerIsolation),
    ).toHaveLength(1);
  });

  test('no site at READ COMMITTED or below, for DEFAULT, or for other settings', () => {
    for (const sql of [
      'BEGIN',
      'BEGIN ISOLATION LEVEL READ COMMITTED',
      'BEGIN ISOLATION LEVEL READ UNCOMMITTED',
      'BEGIN READ ONLY',
      'SET TRANSACTION ISOLATION LEVEL READ COMMITTED',
      'SET default_transaction_isolation TO DEFAULT',
      "SET default_transaction_isolation = 'read committed'",
      "SET TIME ZONE 'UTC'",
      "SET statement_timeout = '5s'",
      'COMMIT',
    ]) {
      expect(mutantsOf(sql, lowerIsolation), sql).toEqual([]);
    }
  });
});
