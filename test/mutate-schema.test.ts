import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderMutationMarkdown, renderMutationTerminal } from '../src/mutate/mutation-render.js';
import { runMutants } from '../src/mutate/mutation-run.js';
import { loadScenario, parseScenario } from '../src/scenario/load.js';
import { ROOT } from './helpers.js';

/**
 * Schema mutants (`drop-constraint`) of `whatbreaks mutate` on the real `jobs` target and a real
 * PostgreSQL. `fixed-unique` completes a job in one transaction without a row lock: only the schema's
 * `UNIQUE (job_id, status)` on job_status_history stops a second completion. Needs `npm run build`.
 */
const out = mkdtempSync(join(tmpdir(), 'whatbreaks-mutate-schema-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const file = join(ROOT, 'scenarios', 'single-completion.yaml');
const UNIQUE = 'drop-constraint@job_status_history_job_id_status_key';

describe('whatbreaks mutate: schema mutants', () => {
  it('single-completion --variant fixed-unique: the unique (job_id, status) mutant is found and killed (two completions, two 200s)', async () => {
    const r = await runMutants(loadScenario(file), {
      variant: 'fixed-unique',
      trials: 2,
      outDir: join(out, 'unique'),
    });
    expect(r.discovery.verdict).toBe('pass');
    // No row lock in this variant: the only mutants are the schema's.
    expect(r.mutants.map((m) => [m.id, m.kind])).toEqual([
      ['drop-constraint@jobs_status_check', 'schema'],
      [UNIQUE, 'schema'],
    ]);
    const unique = r.mutants.find((m) => m.id === UNIQUE)!;
    expect(unique).toMatchObject({
      outcome: 'killed',
      operator: 'drop-constraint',
      clause: 'UNIQUE (job_id, status)',
      file: '../targets/jobs/schema.sql',
      constraint: {
        name: 'job_status_history_job_id_status_key',
        kind: 'unique',
        table: 'job_status_history',
      },
    });
    const byName = new Map(unique.killedBy!.invariants.map((i) => [i.name, i]));
    const twoHundreds = byName
      .get('exactly-one-completion-response')!
      .witnesses.filter((w) => w.status === 200);
    expect(twoHundreds.length).toBeGreaterThanOrEqual(2);
    const [row] = byName.get('single-completion')!.witnesses;
    expect(row).toMatchObject({ job: 1 });
    expect(row!.completions).toBeGreaterThanOrEqual(2);
    // The mutated schema is in the mutant's folder, for a person to read: the same file less the constraint.
    const mutated = readFileSync(join(unique.runDir, 'schema', '1-schema.sql'), 'utf8');
    expect(mutated).not.toMatch(/UNIQUE/);
    expect(mutated).toMatch(/CREATE TABLE job_status_history/);

    // A CHECK no request of this scenario can break: it survives, reported with both readings.
    const check = r.mutants.find((m) => m.id === 'drop-constraint@jobs_status_check')!;
    expect(check.outcome).toBe('survived');
    expect(check.reason).toContain('redundant, or the scenario is too weak');
    // Keys that cannot be mutants are listed with the reason, like refused statement points.
    expect(r.discovery.schema.files).toEqual(['../targets/jobs/schema.sql']);
    expect(r.discovery.schema.refused.map((c) => c.constraint)).toEqual([
      'jobs_pkey',
      'job_status_history_pkey',
      'notifications_pkey',
    ]);
    expect(r.score).toBe(0.5);
    const terminal = renderMutationTerminal(r);
    expect(terminal).toContain(`KILLED   ${UNIQUE}: UNIQUE (job_id, status) on job_status_history`);
    expect(terminal).toContain(
      'REFUSED  drop-constraint@jobs_pkey (../targets/jobs/schema.sql): foreign key',
    );
    expect(renderMutationMarkdown(r)).toContain('## Refused constraints');
  }, 180_000);

  it('a schema mutant the setup cannot be applied to is unknown with PostgreSQL’s reason, never killed', async () => {
    // The setup's ON CONFLICT needs the unique (job_id, status) as arbiter: without it PostgreSQL refuses
    // the statement (42P10) before any trial. whatbreaks applies the setup itself (not through the
    // proxy), so discovery does not see this ON CONFLICT and cannot refuse the constraint beforehand.
    const text = readFileSync(file, 'utf8').replace(
      '  seed: ../targets/jobs/seed.sql\n',
      "  seed: ../targets/jobs/seed.sql\n  setup: INSERT INTO job_status_history (job_id, status) VALUES (1, 'queued') ON CONFLICT (job_id, status) DO NOTHING\n",
    );
    const scenario = parseScenario(text, join(ROOT, 'scenarios', 'single-completion-setup.yaml'));
    expect(scenario.database.setup).toContain('ON CONFLICT');
    const r = await runMutants(scenario, { variant: 'fixed-unique', trials: 1, outDir: join(out, 'setup') });
    expect(r.discovery.verdict).toBe('pass');
    const unique = r.mutants.find((m) => m.id === UNIQUE)!;
    expect(unique.outcome).toBe('unknown');
    expect(unique.killedBy).toBeUndefined();
    expect(unique.reason).toMatch(/database\.setup(:\d+:\d+)?: PostgreSQL rejected it: /);
    expect(unique.reason).toContain('42P10');
    expect(existsSync(join(unique.runDir, 'schema', '1-schema.sql'))).toBe(true);
  }, 180_000);

  it('a constraint gone from the schema files since discovery is an unknown mutant with the reason; the others still run', async () => {
    // A copy of the scenario and its schema in a temporary folder; the schema file is edited (the unique
    // constraint removed) once the first mutant has run, as a person editing it mid-run would.
    const dir = join(out, 'edited');
    mkdirSync(join(dir, 'db'), { recursive: true });
    const schemaFile = join(dir, 'db', 'schema.sql');
    copyFileSync(join(ROOT, 'targets', 'jobs', 'schema.sql'), schemaFile);
    const text = readFileSync(file, 'utf8')
      .replaceAll('../', `${ROOT}/`)
      .replace(/ {2}schema: .*\n/, '  schema: db/schema.sql\n');
    const scenario = parseScenario(text, join(dir, 'scenario.yaml'));
    const r = await runMutants(scenario, {
      variant: 'fixed-unique',
      trials: 1,
      outDir: join(dir, 'run'),
      onEvent: (e) => {
        if (e.type === 'mutant' && e.result.id === 'drop-constraint@jobs_status_check')
          writeFileSync(
            schemaFile,
            readFileSync(schemaFile, 'utf8').replace(',\n  UNIQUE (job_id, status)', ''),
          );
      },
    });
    expect(r.mutants.map((m) => [m.id, m.outcome])).toEqual([
      ['drop-constraint@jobs_status_check', 'survived'],
      [UNIQUE, 'unknown'],
    ]);
    const unique = r.mutants[1]!;
    expect(unique.reason).toBe(
      'the mutant could not be built: no constraint named "job_status_history_job_id_status_key" in the schema files',
    );
    expect(unique.trials.run).toBe(0);
  }, 180_000);
});
