import { describe, expect, test } from 'vitest';
import { makeObjectName } from './schema-model.js';
import { schemaOf } from './test-support.js';

describe('makeObjectName (PostgreSQL’s)', () => {
  test('name1_name2_label, the longer part shortened first to fit 63 bytes', () => {
    expect(makeObjectName('jobs', undefined, 'pkey')).toBe('jobs_pkey');
    expect(makeObjectName('job_status_history', 'job_id_status', 'key')).toBe(
      'job_status_history_job_id_status_key',
    );
    const long = makeObjectName('t'.repeat(40), 'c'.repeat(40), 'key');
    expect(long).toBe(`${'t'.repeat(29)}_${'c'.repeat(29)}_key`);
    expect(long.length).toBe(63);
  });
});

describe('buildSchemaModel', () => {
  const model = schemaOf(`
    CREATE TABLE a (id bigserial PRIMARY KEY, code text NOT NULL, tenant int, n int DEFAULT 0,
      UNIQUE (tenant, code));
    CREATE UNIQUE INDEX a_code ON a (code);
    CREATE UNIQUE INDEX a_live ON a (n) WHERE n > 0;
    CREATE UNIQUE INDEX a_lower ON a (lower(code));`);

  test('keys: primary key, unique constraints and plain unique indexes; not partial or expression ones', () => {
    expect(model.keysOf('a')).toEqual([['id'], ['tenant', 'code'], ['code']]);
    expect(model.keysOf('b')).toBeUndefined();
  });

  test('columns the database fills in: serial, DEFAULT', () => {
    const cols = model.tables.get('a')!.columns;
    expect([...cols.values()].filter((c) => c.generated).map((c) => c.name)).toEqual(['id', 'n']);
  });
});
