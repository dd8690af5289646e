import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parseScenario } from '../scenario/load.js';
import { renderMutationMarkdown, renderMutationTerminal } from './mutation-render.js';
import type { MutantResult, MutationReport } from './mutation-run.js';
import { discoverSchemaMutants } from './schema-mutant-run.js';

const ROOT = join(import.meta.dirname, '..', '..');
const out = mkdtempSync(join(tmpdir(), 'whatbreaks-render-schema-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** A scenario with the jobs schema and a second schema file the parser cannot read. */
async function discovery() {
  mkdirSync(join(out, 'db'), { recursive: true });
  writeFileSync(join(out, 'db', 'broken.sql'), 'CREATE TABLE t (id int UNIQU);\n');
  const text = readFileSync(join(ROOT, 'scenarios', 'single-completion.yaml'), 'utf8')
    .replaceAll('../', `${ROOT}/`)
    .replace(/ {2}schema: .*\n/, `  schema: [${ROOT}/targets/jobs/schema.sql, db/broken.sql]\n`);
  return discoverSchemaMutants(parseScenario(text, join(out, 'scenario.yaml')), []);
}

describe('mutation report: schema mutants', () => {
  test('schema mutants, refused constraints and unreadable schema files reach the terminal and mutation.md', async () => {
    const d = await discovery();
    expect(d.unparsed).toEqual([{ file: 'db/broken.sql', error: expect.stringContaining('syntax error') }]);
    const unique = d.points.find((p) => p.constraint === 'job_status_history_job_id_status_key')!;
    const mutant = {
      id: unique.id,
      kind: 'schema',
      label: `${unique.id}: UNIQUE (job_id, status) on job_status_history`,
      operator: 'drop-constraint',
      clause: unique.clause,
      statement: `job_status_history in ${unique.file}`,
      seen: 0,
      file: unique.file,
      outcome: 'survived',
      reason: 'all 1 trial(s) passed',
      trials: { run: 1, passed: 1, failed: 0, unknown: 0, aborted: 0 },
      rewritten: 0,
      runDir: join(out, 'm'),
    } satisfies MutantResult;
    const report: MutationReport = {
      scenario: 'single-completion',
      variant: 'fixed',
      discovery: {
        runDir: join(out, 'discovery'),
        verdict: 'pass',
        statements: 0,
        refused: [],
        unparsed: [],
        schema: { files: d.files, refused: d.refused, unparsed: d.unparsed },
      },
      mutants: [mutant],
      killed: 0,
      survived: 1,
      unknown: 0,
      score: 0,
    };
    const terminal = renderMutationTerminal(report);
    expect(terminal).toMatch(
      /^UNPARSED schema file db\/broken\.sql \(no constraint mutant from it\): syntax error/m,
    );
    expect(terminal).toMatch(
      /^REFUSED {2}drop-constraint@jobs_pkey \(.*targets\/jobs\/schema\.sql\): foreign key/m,
    );
    const md = renderMutationMarkdown(report);
    expect(md).toContain('## Schema files the parser cannot read (no constraint mutant from them)');
    expect(md).toContain('- `db/broken.sql`: syntax error');
    expect(md).toMatch(/## Refused constraints\n\n- `drop-constraint@jobs_pkey` \(PRIMARY KEY on jobs, /);
    expect(md).toContain(`| schema: ${unique.file} | **survived** |`);
  });
});
