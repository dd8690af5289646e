import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixtureReport } from './formats-fixture.js';
import { validateReport } from './schema.js';
import { REPORT_SCHEMA_FILE, reportSchemaText } from './schema-write.js';

describe('report.json schema', () => {
  it('the published src/report/report.schema.json is generated from the zod schema (run schema-write)', () => {
    expect(readFileSync(REPORT_SCHEMA_FILE, 'utf8')).toBe(reportSchemaText());
  });

  it('is JSON Schema 2020-12 and lets later fields in (fields may be added within a version)', () => {
    const s = JSON.parse(readFileSync(REPORT_SCHEMA_FILE, 'utf8'));
    expect(s.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(s.required).toEqual(expect.arrayContaining(['schemaVersion', 'verdict', 'summary', 'trials']));
    expect(s.additionalProperties).toBeUndefined();
    expect(validateReport({ ...fixtureReport(), addedLater: 1 }).ok).toBe(true);
  });

  it('accepts a report with faults and RSS, rejects broken ones with the path of each problem', () => {
    expect(validateReport(fixtureReport())).toMatchObject({ ok: true });
    const bad = fixtureReport() as unknown as Record<string, unknown>;
    bad.verdict = 'maybe';
    (bad.summary as Record<string, unknown>).trials = -1;
    const r = validateReport(bad);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.issues.some((i) => i.startsWith('verdict:'))).toBe(true);
      expect(r.issues.some((i) => i.startsWith('summary.trials:'))).toBe(true);
    }
    expect(validateReport({ schemaVersion: 2 }).ok).toBe(false);
  });
});
