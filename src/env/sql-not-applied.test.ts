import { describe, expect, it } from 'vitest';
import { WhatbreaksError } from '../errors.js';
import { sqlNotApplied } from './sql-not-applied.js';

describe('sqlNotApplied', () => {
  it('a statement PostgreSQL refused becomes DATABASE_FAILED with its message, detail and SQLSTATE', () => {
    const pg = Object.assign(new Error('duplicate key value violates unique constraint "t_pkey"'), {
      code: '23505',
      detail: 'Key (id)=(1) already exists.',
    });
    const e = sqlNotApplied(pg);
    expect(e).toBeInstanceOf(WhatbreaksError);
    expect(e).toMatchObject({ code: 'DATABASE_FAILED', cause: pg });
    expect((e as Error).message).toBe(
      'the database schema, seed or setup did not apply: duplicate key value violates unique constraint "t_pkey" (Key (id)=(1) already exists.) [SQLSTATE 23505]',
    );
  });

  it('an error without a SQLSTATE (a broken connection) is returned as it is', () => {
    const conn = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(sqlNotApplied(conn)).toBe(conn);
    const plain = new Error('Connection terminated unexpectedly');
    expect(sqlNotApplied(plain)).toBe(plain);
  });
});
