import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT } from './helpers.js';

/**
 * Every format a real run writes, checked against its published contract: report.json against
 * src/report/report.schema.json (read as a file, by a small validator below, not through the zod
 * schema it was generated from), junit.xml against test/fixtures/junit.xsd with xmllint, report.md and
 * report.html present; `whatbreaks report` re-renders them; `whatbreaks list` lists the scenarios.
 */
const XSD = join(ROOT, 'test', 'fixtures', 'junit.xsd');
// The embedded environment: `run` picks docker when a container runtime answers (`--env auto`).
process.env.WHATBREAKS_ENV = 'local';
const SCHEMA = JSON.parse(readFileSync(join(ROOT, 'src', 'report', 'report.schema.json'), 'utf8'));
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * JSON Schema 2020-12, the keywords report.schema.json uses. An unknown keyword is an error here, so
 * the validator cannot pass a schema it does not understand.
 */
function validate(schema: Record<string, Json>, value: Json, path = '$'): string[] {
  const errors: string[] = [];
  const known = new Set([
    '$schema',
    'title',
    'description',
    'type',
    'properties',
    'required',
    'additionalProperties',
    'propertyNames',
    'items',
    'prefixItems',
    'minItems',
    'maxItems',
    'anyOf',
    'enum',
    'const',
    'minimum',
    'maximum',
    'pattern',
  ]);
  for (const k of Object.keys(schema))
    if (!known.has(k)) errors.push(`${path}: schema keyword '${k}' not supported by this validator`);
  const typeOf = (v: Json) =>
    v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;
  if (schema.type !== undefined) {
    const t = typeOf(value);
    const ok = schema.type === t || (schema.type === 'number' && t === 'integer');
    if (!ok) return [...errors, `${path}: expected ${schema.type}, got ${t}`];
  }
  if (schema.const !== undefined && value !== schema.const)
    errors.push(`${path}: expected ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    errors.push(`${path}: not one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum)
      errors.push(`${path}: below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum)
      errors.push(`${path}: above ${schema.maximum}`);
  }
  if (Array.isArray(schema.anyOf)) {
    const branches = schema.anyOf.map((s) => validate(s as Record<string, Json>, value, path));
    if (!branches.some((b) => b.length === 0))
      errors.push(`${path}: matches no branch of anyOf (${branches.map((b) => b[0]).join(' / ')})`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems)
      errors.push(`${path}: fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems)
      errors.push(`${path}: more than ${schema.maxItems} items`);
    const prefix = (schema.prefixItems as Record<string, Json>[] | undefined) ?? [];
    value.forEach((v, i) => {
      const s = prefix[i] ?? (schema.items as Record<string, Json> | undefined);
      if (s) errors.push(...validate(s, v, `${path}[${i}]`));
    });
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const props = (schema.properties ?? {}) as Record<string, Record<string, Json>>;
    for (const r of (schema.required as string[] | undefined) ?? [])
      if (!(r in value)) errors.push(`${path}.${r}: required`);
    for (const [k, v] of Object.entries(value)) {
      if (props[k]) errors.push(...validate(props[k], v, `${path}.${k}`));
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object')
        errors.push(...validate(schema.additionalProperties as Record<string, Json>, v, `${path}.${k}`));
      else if (schema.additionalProperties === false) errors.push(`${path}.${k}: not allowed`);
    }
  }
  return errors;
}

describe('the formats a real run writes', () => {
  let dir: string;
  let run: ReturnType<typeof cli>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'whatbreaks-test-formats-'));
    run = cli([
      'run',
      'scenarios/double-booking.yaml',
      '--variant',
      'buggy',
      '--trials',
      '2',
      '--out',
      dir,
      '-q',
    ]);
  });

  it('the run failed as expected (the bug reproduced) and wrote report.json, report.md, report.html, junit.xml', () => {
    expect(run.code).toBe(1);
    for (const f of ['report.json', 'report.md', 'report.html', 'junit.xml'])
      expect(statSync(join(dir, f)).size).toBeGreaterThan(500);
  });

  it('report.json validates against the published src/report/report.schema.json', () => {
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(validate(SCHEMA, report)).toEqual([]);
    // The validator bites: a wrong verdict, a missing field and a bad witness count are each caught.
    const broken = structuredClone(report);
    broken.verdict = 'maybe';
    delete broken.summary.trials;
    broken.trials[0].invariants[0].witnessCount = -1;
    const errors = validate(SCHEMA, broken);
    expect(errors).toContainEqual(expect.stringMatching(/^\$\.verdict: not one of/));
    expect(errors).toContain('$.summary.trials: required');
    expect(errors).toContainEqual(
      expect.stringMatching(/^\$\.trials\[0\]\.invariants\[0\]\.witnessCount: below 0/),
    );
  });

  it.skipIf(!hasXmllint)(
    'junit.xml validates against the JUnit schema and has one case per invariant per trial',
    () => {
      execFileSync('xmllint', ['--noout', '--schema', XSD, join(dir, 'junit.xml')], { stdio: 'pipe' });
      const xml = readFileSync(join(dir, 'junit.xml'), 'utf8');
      expect(xml.match(/<testcase /g)).toHaveLength(2 * 3); // 2 trials × 3 invariants
      expect(xml).toMatch(/<failure message="1 violating row: truck 1 holds \d+ bookings/);
    },
  );

  it('report.md leads with the verdict and tables the witnesses', () => {
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toMatch(/^## ❌ double-booking \[buggy\]: FAIL/);
    expect(md).toMatch(/\| truck \| capacity_kg \| booked_kg \| bookings \|/);
  });

  it('`whatbreaks report` re-renders every format from report.json and prints the summary', () => {
    const again = mkdtempSync(join(tmpdir(), 'whatbreaks-test-rerender-'));
    const r = cli(['report', join(dir, 'report.json'), '--out', again, '-q']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/double-booking \[buggy\] on local: FAIL/);
    for (const f of ['report.md', 'report.html', 'junit.xml']) {
      expect(readFileSync(join(again, f), 'utf8')).toBe(readFileSync(join(dir, f), 'utf8'));
    }
  });

  it('`whatbreaks report` refuses a file that is not a report, exit 2, naming the problem', () => {
    const r = cli(['report', join(ROOT, 'package.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a whatbreaks report\.json:\n {2}schemaVersion: /);
  });
});

describe('whatbreaks list', () => {
  it('lists the scenarios of scenarios/ with name, variants and description', () => {
    const r = cli(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^double-booking {2}\[buggy \(default\), fixed, mutex\] {2}scenarios\/double-booking\.yaml\n {2}200 concurrent/m,
    );
    expect(r.stdout).toMatch(
      /^double-booking-replicas {2}\[buggy \(default\), fixed, mutex\] {2}scenarios\/double-booking-replicas\.yaml\n {2}200 concurrent 10 kg bookings through 2 replicas/m,
    );
    expect(r.stdout).toMatch(/^single-completion {2}\[buggy \(default\), fixed, fixed-unique\]/m);
  });

  it('marks invalid files instead of failing', () => {
    const r = cli(['list', 'test/fixtures']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/misspelled-key\.yaml\n {2}INVALID: /);
  });
});
