import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

describe('bad input exits 2 with a message naming file, line and field', () => {
  it('a misspelled key', () => {
    const r = cli(['run', 'test/fixtures/misspelled-key.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /misspelled-key\.yaml:\d+:1: invariant: unknown key 'invariant'; did you mean 'invariants'\?/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a missing file', () => {
    const r = cli(['run', 'test/fixtures/missing-file.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /missing-file\.yaml:\d+:3: database\.schema: file not found: \.\.\/\.\.\/targets\/jobs\/no-such-schema\.sql/,
    );
  });

  it('a schema file PostgreSQL rejects: file, line and column, not an internal error', () => {
    const out = mkdtempSync(join(tmpdir(), 'whatbreaks-bad-schema-'));
    try {
      const r = cli(['run', 'test/fixtures/bad-schema.yaml', '--out', join(out, 'run')]);
      expect(r.code).toBe(2);
      expect(r.stdout + r.stderr).toMatch(
        /SCENARIO_INVALID\]: test\/fixtures\/bad-schema\.sql:4:1: PostgreSQL rejected it: syntax error at or near "\)" \(SQLSTATE 42601\)/,
      );
      expect(r.stdout + r.stderr).not.toMatch(/internal error|\n\s+at /);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('a scenario file that does not exist', () => {
    const r = cli(['run', 'scenarios/nope.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read scenario scenarios\/nope\.yaml: ENOENT/);
  });

  it('a usage error', () => {
    const r = cli(['run', 'scenarios/double-booking.yaml', '--trials', 'zero']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--trials/);
  });
});
