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
