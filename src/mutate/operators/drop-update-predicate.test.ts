import { describe, expect, test } from 'vitest';
import { mutantsOf, schemaOf } from '../test-support.js';
import { dropUpdatePredicate } from './drop-update-predicate.js';

const schema = schemaOf(`
  CREATE TABLE jobs (id integer PRIMARY KEY, status text NOT NULL);
  CREATE TABLE task_claims (task text, tick bigint, token text, done_at timestamptz, PRIMARY KEY (task, tick));
  CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL, balance int);
  CREATE UNIQUE INDEX accounts_email ON accounts (email);
  CREATE UNIQUE INDEX accounts_one_open ON accounts (balance) WHERE balance > 0;
`);

describe('drop-update-predicate', () => {
  test('keeps the key predicate, drops the guard (no schema: the first equality is the key)', () => {
    expect(
      mutantsOf(
        "UPDATE jobs SET status = 'completed' WHERE id = $1 AND status = 'in_progress'",
        dropUpdatePredicate,
      ),
    ).toEqual([
      { clause: "status = 'in_progress'", sql: "UPDATE jobs SET status = 'completed' WHERE id = $1" },
    ]);
    expect(
      mutantsOf('UPDATE events SET sold = sold + 1 WHERE id = 7 AND sold < capacity', dropUpdatePredicate),
    ).toEqual([{ clause: 'sold < capacity', sql: 'UPDATE events SET sold = sold + 1 WHERE id = 7' }]);
  });

  test('with the schema the key is the table’s: a composite primary key; a guard with a parameter becomes (… OR true)', () => {
    const sql =
      'UPDATE task_claims SET done_at = clock_timestamp() WHERE task = $1 AND tick = $2 AND token = $3 AND done_at IS NULL';
    expect(mutantsOf(sql, dropUpdatePredicate, { schema })).toEqual([
      {
        clause: 'token = $3 AND done_at IS NULL',
        sql: 'UPDATE task_claims SET done_at = clock_timestamp() WHERE task = $1 AND tick = $2 AND (token = $3 OR true)',
      },
    ]);
    // Without the schema only `task = $1` is the key.
    expect(mutantsOf(sql, dropUpdatePredicate)[0]).toMatchObject({
      clause: 'tick = $2 AND token = $3 AND done_at IS NULL',
    });
  });

  test('the schema decides which equality is the key, whatever comes first', () => {
    expect(
      mutantsOf(
        "UPDATE jobs j SET status = 'x' WHERE j.status = 'in_progress' AND j.id = $1",
        dropUpdatePredicate,
        {
          schema,
        },
      ),
    ).toEqual([
      { clause: "j.status = 'in_progress'", sql: "UPDATE jobs AS j SET status = 'x' WHERE j.id = $1" },
    ]);
    // A unique index is a key; the partial one is not.
    expect(
      mutantsOf(
        'UPDATE accounts SET balance = balance - $2 WHERE email = $1 AND balance >= $2',
        dropUpdatePredicate,
        {
          schema,
        },
      )[0],
    ).toMatchObject({ clause: 'balance >= $2' });
    expect(
      mutantsOf('UPDATE accounts SET email = $2 WHERE balance = $1 AND email IS NULL', dropUpdatePredicate, {
        schema,
      }),
    ).toEqual([]);
  });

  test('no site: no AND, no key predicate, or only key predicates', () => {
    for (const sql of [
      "UPDATE jobs SET status = 'x' WHERE id = $1",
      "UPDATE jobs SET status = 'x' WHERE status = 'queued' AND id > 5",
      "UPDATE jobs SET status = 'x' WHERE id = $1 OR status = 'queued'",
      'UPDATE task_claims SET token = $3 WHERE task = $1 AND tick = $2',
      "UPDATE jobs SET status = 'x'",
    ]) {
      expect(mutantsOf(sql, dropUpdatePredicate, { schema }), sql).toEqual([]);
    }
  });
});
