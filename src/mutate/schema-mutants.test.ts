import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  constraintNames,
  discoverConstraintPoints,
  dropConstraint,
  type SchemaFile,
} from './schema-mutants.js';
import { loadSqlParser } from './sql-parser.js';

await loadSqlParser();
const target = (name: string): SchemaFile => {
  const path = join(import.meta.dirname, '..', '..', 'targets', name, 'schema.sql');
  return { path, sql: readFileSync(path, 'utf8') };
};

describe('discoverConstraintPoints', () => {
  test('jobs: the unique (job_id, status) and the CHECK are points; the referenced and serial keys are not', async () => {
    const d = await discoverConstraintPoints([target('jobs')]);
    expect(d.points.map((p) => [p.id, p.kind, p.clause])).toEqual([
      [
        'drop-constraint@jobs_status_check',
        'check',
        "CHECK (status IN ('queued', 'in_progress', 'completed'))",
      ],
      ['drop-constraint@job_status_history_job_id_status_key', 'unique', 'UNIQUE (job_id, status)'],
    ]);
    expect(d.refused.map((p) => [p.constraint, p.reason.split(':')[0]])).toEqual([
      ['jobs_pkey', 'foreign key job_status_history_job_id_fkey (job_status_history) references it'],
      ['job_status_history_pkey', 'the database fills in its columns (serial, identity or DEFAULT)'],
      ['notifications_pkey', 'the database fills in its columns (serial, identity or DEFAULT)'],
    ]);
  });

  test('natural primary keys are points (scheduler claims, payments idempotency keys) unless an ON CONFLICT needs them', async () => {
    const s = await discoverConstraintPoints([target('scheduler')]);
    expect(s.points.map((p) => p.id)).toEqual(['drop-constraint@task_claims_pkey']);
    const p = await discoverConstraintPoints(
      [target('payments')],
      [
        'INSERT INTO idempotency_keys (key, request_hash) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING key',
      ],
    );
    expect(p.points.map((x) => x.id)).toEqual([]);
    expect(p.refused.find((x) => x.constraint === 'idempotency_keys_pkey')?.reason).toMatch(
      /^the ON CONFLICT of `INSERT INTO idempotency_keys .*` names it as its arbiter/,
    );
  });

  test('kinds: EXCLUDE, partial unique index, ALTER TABLE ADD CONSTRAINT, expression index; names as PostgreSQL makes them', async () => {
    const sql = `
      CREATE TABLE r (id int PRIMARY KEY, room int, during tstzrange, active bool, email text UNIQUE,
        EXCLUDE USING gist (room WITH =, during WITH &&), CHECK (room > 0 AND id > 0));
      CREATE UNIQUE INDEX one_active ON r (room) WHERE active;
      CREATE UNIQUE INDEX ON r (lower(email));
      ALTER TABLE r ADD CONSTRAINT r_room_email UNIQUE (room, email), ADD CHECK (room < 1000);
      ALTER TABLE r ADD UNIQUE (during);`;
    const d = await discoverConstraintPoints([{ path: 'r.sql', sql }]);
    expect(d.points.map((p) => [p.constraint, p.kind, p.partial])).toEqual([
      ['r_pkey', 'primary-key', false],
      ['r_email_key', 'unique', false],
      ['r_room_during_excl', 'exclude', false],
      ['r_check', 'check', false],
      ['one_active', 'unique-index', true],
      ['r_lower_idx', 'unique-index', false],
      ['r_room_email', 'unique', false],
      ['r_room_check', 'check', false],
      ['r_during_key', 'unique', false],
    ]);
  });
});

describe('dropConstraint', () => {
  const sql = `-- header comment stays
CREATE TABLE r (
  id int PRIMARY KEY, -- keep me
  room int CHECK (room > 0) UNIQUE,
  active bool,
  UNIQUE (id, room)
);
CREATE UNIQUE INDEX one_active ON r (room) WHERE active;
ALTER TABLE r ADD CONSTRAINT only_one UNIQUE (active);
`;
  const files = [
    { path: 'other.sql', sql: 'SELECT 1;' },
    { path: 'r.sql', sql },
  ];

  test('a column constraint goes, the others of that column stay; other statements and files keep their bytes', () => {
    const out = dropConstraint(files, 'r_room_key');
    expect(out[0]).toBe(files[0]);
    expect(out[1]!.sql).toBe(`-- header comment stays
CREATE TABLE r (id int PRIMARY KEY, room int CHECK (room > 0), active bool, UNIQUE (id, room));
CREATE UNIQUE INDEX one_active ON r (room) WHERE active;
ALTER TABLE r ADD CONSTRAINT only_one UNIQUE (active);
`);
  });

  test('a unique index becomes a plain index of the same name; an ALTER TABLE with one command goes', () => {
    expect(dropConstraint(files, 'one_active')[1]!.sql).toContain(
      'CREATE INDEX one_active ON r (room) WHERE active;',
    );
    expect(dropConstraint(files, 'only_one')[1]!.sql).toContain(
      '/* drop-constraint@only_one: ALTER TABLE removed */;',
    );
    expect(constraintNames(dropConstraint(files, 'r_id_room_key'))).toEqual([
      'r_pkey',
      'r_room_check',
      'r_room_key',
      'one_active',
      'only_one',
    ]);
  });

  test('an unknown name is a usage error listing the names', () => {
    expect(() => dropConstraint(files, 'nope')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});
