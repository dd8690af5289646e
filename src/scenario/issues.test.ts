import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../errors.js';
import { parseScenario } from './load.js';

/** A folder with a schema file, so only the problems a test writes are problems. */
const dir = mkdtempSync(join(tmpdir(), 'whatbreaks-issues-'));
writeFileSync(join(dir, 'schema.sql'), 'CREATE TABLE x (id int);');
const file = join(dir, 's.yaml');

function issuesOf(text: string) {
  try {
    parseScenario(text, file);
  } catch (err) {
    if (err instanceof ScenarioError) return err.issues;
    throw err;
  }
  return [];
}

const scenario = (
  load: string,
  invariants = '  - { type: sql, name: q, query: SELECT 1 }',
  extra = '',
) => `target:
  command: node server.js
database: { schema: schema.sql }
load:
${load}
invariants:
${invariants}
${extra}`;

const burst = (more = '') => `  type: burst\n  requests: 2\n  request: { path: /x }\n${more}`;

describe('scenario problems, all in one pass', () => {
  it('a key typo, load.type bursts, a missing invariant name and a missing schema file: all four at once', () => {
    const issues = issuesOf(`target:
  command: node server.js
  helth: { path: /health }
database: { schema: nope.sql }
load:
  type: bursts
  requests: 2
  request: { path: /x }
invariants:
  - { type: sql, query: SELECT 1 }
`);
    const text = issues.map((i) => `${i.field}: ${i.message}`);
    expect(text).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^target\.helth: unknown key 'helth'; did you mean 'health'\?/),
        expect.stringMatching(/^database\.schema: file not found: nope\.sql/),
        expect.stringMatching(/^load\.type: unknown type 'bursts'; did you mean 'burst'\?/),
        expect.stringMatching(/^invariants\.0\.name: required field 'name' is missing/),
      ]),
    );
    expect(issues).toHaveLength(4);
    expect(issues.find((i) => i.field === 'load.type')).toMatchObject({ line: 6, column: 3 });
    expect(issues.find((i) => i.field === 'load.type')?.hint).toMatch(/one of: burst, idle/);
  });

  it('what is inside a misspelled block is checked as the key it was meant to be, in the same pass', () => {
    const issues = issuesOf(`target: { command: node server.js }
databse: { schema: nope.sql }
load: { type: burst, requests: 2, request: { path: /x } }
invariant:
  - { type: sqll, name: q, query: SELECT 1 }
  - type: responses
    allowed: [200]
`);
    const text = issues.map((i) => `${i.line}:${i.column} ${i.field}: ${i.message}`);
    expect(text).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^2:1 databse: unknown key 'databse'; did you mean 'database'\?/),
        expect.stringMatching(/^2:\d+ databse\.schema: file not found: nope\.sql/),
        expect.stringMatching(/^4:1 invariant: unknown key 'invariant'; did you mean 'invariants'\?/),
        expect.stringMatching(/^5:\d+ invariant\.0\.type: unknown type 'sqll'; did you mean 'sql'\?/),
        expect.stringMatching(/^6:\d+ invariant\.1\.name: required field 'name' is missing/),
      ]),
    );
    expect(issues).toHaveLength(5);
  });

  it('a single value where a block is expected says so (health: /healthz)', () => {
    const issues = issuesOf(`target: { command: node server.js, health: /healthz }
load: { type: burst, requests: 2, request: { path: /x } }
invariants:
  - { type: sql, name: q, query: SELECT 1 }
`);
    const health = issues.find((i) => i.field === 'target.health');
    expect(health?.message).toBe("'/healthz' is a single value; 'health' is a block of fields (key: value)");
    expect(health?.hint).toMatch(/write it as health: \{ <field>: … \}/);
  });

  it('inline SQL under database.seed points to database.setup', () => {
    const issues = issuesOf(`target: { command: node server.js }
database: { schema: schema.sql, seed: "INSERT INTO coupons VALUES ('A', 1)" }
load: { type: burst, requests: 2, request: { path: /x } }
invariants:
  - { type: sql, name: q, query: SELECT 1 }
`);
    const seed = issues.find((i) => i.field === 'database.seed');
    expect(seed?.message).toMatch(/file not found: INSERT INTO coupons/);
    expect(seed?.hint).toBe('this names SQL files; SQL written inline goes in database.setup');
  });

  it('a bad threshold and an unknown fault target are reported beside a schema error elsewhere', () => {
    const issues = issuesOf(
      scenario(
        burst(),
        '  - { type: sql, query: SELECT 1 }\n  - { type: threshold, name: t, expr: "p(99) <x 1s" }',
        'faults:\n  - { type: toxic, at: 0s, proxy: nowhere, toxic: { type: latency, attributes: { latency: 5 } } }',
      ),
    );
    const fields = issues.map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['invariants.0.name', 'invariants.1.expr', 'faults.0']));
    expect(issues.find((i) => i.field === 'faults.0')?.message).toMatch(/nowhere/);
  });

  it.each([
    ['load.sync', burst('  sync: lastbyte'), "did you mean 'last-byte'?"],
    ['invariants.0.type', '', "did you mean 'responses'?"],
    ['faults.0.toxic.type', '', "did you mean 'latency'?"],
  ])('%s: did you mean, for values', (field, load, expected) => {
    const text =
      field === 'invariants.0.type'
        ? scenario(burst(), '  - { type: response, name: r, allowed: [200] }')
        : field === 'faults.0.toxic.type'
          ? scenario(
              burst(),
              undefined,
              'database2: x\nfaults:\n  - { type: toxic, at: 0s, proxy: postgres, toxic: { type: latancy, attributes: { latency: 5 } } }',
            )
              .replace('database2: x\n', '')
              .replace('database: { schema: schema.sql }', 'database: { schema: schema.sql, proxy: true }')
          : scenario(load);
    const issue = issuesOf(text).find((i) => i.field === field);
    expect(issue?.message).toContain(expected);
  });

  it('allowed: [200, "409"] says the status is a string', () => {
    const issues = issuesOf(scenario(burst(), '  - { type: responses, name: r, allowed: [200, "409"] }'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ field: 'invariants.0.allowed.1' });
    expect(issues[0]!.message).toMatch(
      /"409" is a string: write the status as a number, 409, without quotes/,
    );
  });

  it("the README's threshold `p(99) < 200ms` works as written (metric http_req_duration)", () => {
    expect(issuesOf(scenario(burst(), '  - { type: threshold, name: p99, expr: "p(99) < 200ms" }'))).toEqual(
      [],
    );
  });
});

describe('one duration type', () => {
  const loads: Record<string, string> = {
    burst: burst('  timeoutMs: 2s\n  holdMs: 100ms\n  maxSpreadMs: 5ms'),
    idle: '  type: idle\n  durationMs: 2s',
    'duplicate-delivery':
      '  type: duplicate-delivery\n  gapMs: 30ms\n  timeoutMs: 2s\n  request: { path: /x }',
    'constant-arrival-rate':
      '  type: constant-arrival-rate\n  rate: 10\n  durationMs: 2s\n  maxQueueMs: 1s\n  warmUpMs: 0.5s\n  timeoutMs: 2s\n  request: { path: /x }',
    'closed-model': '  type: closed-model\n  durationMs: 2s\n  timeoutMs: 1s\n  request: { path: /x }',
    'client-population':
      '  type: client-population\n  intervalMs: 1s\n  durationMs: 2s\n  timeoutMs: 2s\n  request: { path: /x }',
  };
  it.each(Object.entries(loads))(
    '%s takes durations with units (durationMs: 2s, timeouts)',
    (_type, load) => {
      expect(issuesOf(scenario(load))).toEqual([]);
    },
  );

  it.each(Object.keys(loads).filter((t) => t !== 'burst' && t !== 'duplicate-delivery'))(
    '%s rejects a duration it cannot read with the one message',
    (type) => {
      const issues = issuesOf(scenario(loads[type]!.replace('durationMs: 2s', 'durationMs: 2h')));
      expect(issues).toHaveLength(1);
      expect(issues[0]!.message).toMatch(
        /^not a (positive )?duration: "2h"; write e.g. 500ms, 2s, 1m or a number of ms( \(more than 0\))?$/,
      );
    },
  );

  it('health.timeoutMs: 30s, and every other time field of target, invariants and faults', () => {
    const text = `target:
  command: node server.js
  health: { timeoutMs: 30s, intervalMs: 250ms }
  startStaggerMs: 1s
database: { schema: schema.sql, proxy: true }
load: { type: idle, durationMs: 10s }
invariants:
  - { type: exactly-once, name: e, query: SELECT 1, key: [k], atLeastOnce: { tickColumn: k, tickMs: 1s, graceMs: 3s } }
faults:
  - { type: toxic, at: 1s, for: 2s, proxy: postgres, toxic: { type: latency, attributes: { latency: 100ms, jitter: 10ms } } }
`;
    expect(issuesOf(text)).toEqual([]);
    const s = parseScenario(text, file);
    expect(s.target.health.timeoutMs).toBe(30_000);
    expect(s.faults[0]).toMatchObject({ at: 1000, for: 2000 });
  });
});
