import { describe, expect, test } from 'vitest';
import { mutantsOf } from '../test-support.js';
import { dropOnConflict } from './drop-on-conflict.js';

describe('drop-on-conflict', () => {
  test('DO NOTHING and DO UPDATE are removed; RETURNING stays', () => {
    expect(
      mutantsOf(
        'INSERT INTO idempotency_keys (key, request_hash) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key',
        dropOnConflict,
      ),
    ).toEqual([
      {
        clause: 'ON CONFLICT (key) DO NOTHING',
        sql: 'INSERT INTO idempotency_keys (key, request_hash) VALUES ($1, $2) RETURNING key',
      },
    ]);
    const [m] = mutantsOf(
      'INSERT INTO counters (k, n) VALUES ($1, 1) ON CONFLICT ON CONSTRAINT counters_pkey DO UPDATE SET n = counters.n + excluded.n WHERE counters.n < 10',
      dropOnConflict,
    );
    expect(m).toEqual({
      clause:
        'ON CONFLICT ON CONSTRAINT counters_pkey DO UPDATE SET n = counters.n + excluded.n WHERE counters.n < 10',
      sql: 'INSERT INTO counters (k, n) VALUES ($1, 1)',
    });
  });

  test('a clause holding a parameter used nowhere else is refused, with the reason', () => {
    expect(
      mutantsOf('INSERT INTO t (a) VALUES ($1) ON CONFLICT (a) DO UPDATE SET b = $2', dropOnConflict),
    ).toEqual([
      {
        clause: 'ON CONFLICT (a) DO UPDATE SET b = $2',
        refused: 'removing it would remove parameter $2, which the client binds',
      },
    ]);
    // $1 is used in VALUES as well: allowed.
    expect(
      mutantsOf(
        'INSERT INTO t (a, b) VALUES ($1, $2) ON CONFLICT (a) DO UPDATE SET b = $2',
        dropOnConflict,
      )[0],
    ).toEqual({
      clause: 'ON CONFLICT (a) DO UPDATE SET b = $2',
      sql: 'INSERT INTO t (a, b) VALUES ($1, $2)',
    });
  });

  test('no site without ON CONFLICT', () => {
    expect(mutantsOf('INSERT INTO t (a) VALUES ($1)', dropOnConflict)).toEqual([]);
  });
});
