import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioError, WhatbreaksError } from '../errors.js';
import { loadScenario } from './load.js';

const VALID = `name: demo
target:
  command: node server.js
  variants:
    buggy: { env: { VARIANT: buggy } }
    fixed: { env: { VARIANT: fixed } }
database:
  schema: schema.sql
load:
  type: burst
  requests: 20
  request: { method: POST, path: /api/x, json: { n: "{{n}}" } }
invariants:
  - type: responses
    name: ok
    allowed: [200]
trials: 3
`;

function scenarioFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'whatbreaks-scenario-'));
  writeFileSync(join(dir, 'schema.sql'), 'CREATE TABLE x (id int);');
  mkdirSync(join(dir, 'app'));
  const file = join(dir, 'demo.yaml');
  writeFileSync(file, text);
  return file;
}

function issuesOf(text: string) {
  const file = scenarioFile(text);
  try {
    loadScenario(file);
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return { file, issues: (err as ScenarioError).issues, message: (err as Error).message };
  }
  throw new Error('expected the scenario to be rejected');
}

describe('loadScenario', () => {
  it('accepts a valid scenario, applies defaults and resolves paths from the scenario folder', () => {
    const file = scenarioFile(VALID);
    const s = loadScenario(file);
    expect(s.name).toBe('demo');
    expect(s.trials).toBe(3);
    expect(s.target.defaultVariant).toBe('buggy');
    expect(s.target.health.path).toBe('/health');
    expect(s.database.schema[0]).toBe(join(file, '..', 'schema.sql'));
    expect(s.load).toMatchObject({ type: 'burst', requests: 20, sync: 'last-byte' });
    expect(Object.isFrozen(s.target)).toBe(true);
  });

  it('names file, line, column and the misspelled key, with a suggestion', () => {
    const { file, issues, message } = issuesOf(VALID.replace('invariants:', 'invariant:'));
    expect(issues).toContainEqual(
      expect.objectContaining({
        file,
        line: 13,
        column: 1,
        field: 'invariant',
        message: expect.stringMatching(/did you mean 'invariants'/),
      }),
    );
    // The missing 'invariants' is the same mistake: not reported twice.
    expect(issues).toHaveLength(1);
    expect(message).toContain(`${file}:13:1: invariant: unknown key 'invariant'`);
  });

  it('finds a misspelled key inside a list item of a discriminated block', () => {
    const { issues } = issuesOf(VALID.replace('    allowed: [200]', '    alowed: [200]'));
    expect(issues).toContainEqual(
      expect.objectContaining({
        line: 16,
        column: 5,
        field: 'invariants.0.alowed',
        message: expect.stringMatching(/did you mean 'allowed'/),
      }),
    );
  });

  it('reports every problem at once: wrong type, unknown type, missing file', () => {
    const text = VALID.replace('requests: 20', 'requests: many')
      .replace('type: responses', 'type: respones')
      .replace('schema: schema.sql', 'schema: missing.sql');
    const { issues } = issuesOf(text);
    const fields = issues.map((i) => i.field);
    expect(fields).toContain('load.requests');
    expect(fields).toContain('invariants.0.type');
    expect(issues.find((i) => i.field === 'load.requests')).toMatchObject({ line: 11, column: 3 });
    // Files are checked once the structure is valid, so the missing file is reported on its own.
    const missing = issuesOf(VALID.replace('schema: schema.sql', 'schema: missing.sql')).issues;
    expect(missing).toEqual([
      expect.objectContaining({
        line: 8,
        column: 3,
        field: 'database.schema',
        message: expect.stringMatching(/file not found: missing.sql/),
      }),
    ]);
  });

  it('defaults last-byte release threads to auto and names a bad value with what it expects', () => {
    expect(loadScenario(scenarioFile(VALID)).load).toMatchObject({ releaseThreads: 'auto' });
    const twice = VALID.replace('requests: 20', 'requests: 20\n  releaseThreads: 2');
    expect(loadScenario(scenarioFile(twice)).load).toMatchObject({ releaseThreads: 2 });
    const { issues } = issuesOf(VALID.replace('requests: 20', 'requests: 20\n  releaseThreads: lots'));
    expect(issues).toEqual([
      expect.objectContaining({
        line: 12,
        field: 'load.releaseThreads',
        message: expect.stringMatching(/'auto' or a whole number of threads/),
      }),
    ]);
  });

  it('points a missing required field at the block that lacks it', () => {
    const { issues } = issuesOf(VALID.replace('  requests: 20\n', ''));
    expect(issues).toContainEqual(
      expect.objectContaining({
        field: 'load.requests',
        line: 9,
        message: "required field 'requests' is missing",
      }),
    );
    const neither = issuesOf(VALID.replace('  command: node server.js\n', '')).issues;
    expect(neither).toContainEqual(
      expect.objectContaining({
        field: 'target',
        line: 2,
        message: expect.stringMatching(/either command .* or url/),
      }),
    );
  });

  it('reports YAML syntax errors with their position', () => {
    const dup = issuesOf(`${VALID}trials: 4\n`).issues;
    expect(dup[0]).toMatchObject({ line: 18, column: 1, message: expect.stringMatching(/^YAML: .*unique/) });
    const indent = issuesOf(
      VALID.replace('  command: node server.js', '  command: node server.js\n    cwd: .'),
    ).issues;
    expect(indent[0]).toMatchObject({ line: 3, message: expect.stringMatching(/^YAML:/) });
  });

  it('rejects a duplicate invariant name and an unknown default variant', () => {
    const text = VALID.replace(
      'trials: 3',
      '  - type: responses\n    name: ok\n    allowed: [201]\ntrials: 3',
    ).replace('  variants:', '  defaultVariant: fast\n  variants:');
    const fields = issuesOf(text).issues.map((i) => `${i.field}: ${i.message}`);
    expect(fields).toContainEqual(
      expect.stringMatching(/^invariants\.1\.name: invariant name 'ok' is used twice/),
    );
    expect(fields).toContainEqual(expect.stringMatching(/^target\.defaultVariant: no variant named 'fast'/));
  });

  it('throws SCENARIO_NOT_FOUND for a file that does not exist', () => {
    expect(() => loadScenario('/nonexistent/x.yaml')).toThrow(WhatbreaksError);
    try {
      loadScenario('/nonexistent/x.yaml');
    } catch (err) {
      expect((err as WhatbreaksError).code).toBe('SCENARIO_NOT_FOUND');
    }
  });
});
