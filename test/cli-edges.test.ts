import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureReport } from '../src/report/formats-fixture.js';
import { cli, ROOT } from './helpers.js';

/**
 * The command line's edges, through the real CLI: help with examples and exit codes, a usage error in
 * one line, `report` given a folder or a rendered file, `list` outside the repository, `--out` that would
 * overwrite a run, the docker error said once, and a run that breaks off before its first trial.
 */
const tmp = (what: string) => mkdtempSync(join(tmpdir(), `whatbreaks-test-cli-${what}-`));

describe('--help', () => {
  it('shows examples and the exit-code table', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:\n {2}\$ whatbreaks list\n/);
    expect(r.stdout).toMatch(/Exit codes:\n {4}0 {2}every invariant held/);
    for (const code of ['1', '2', '3', '130']) expect(r.stdout).toMatch(new RegExp(`\\n +${code}  \\w`));
    expect(r.stdout).toContain('docs/verdicts.md');
  });

  it('each command shows its own examples; run and verify the exit codes too', () => {
    const run = cli(['run', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Examples:\n {2}\$ whatbreaks run scenarios\/double-booking\.yaml/);
    expect(run.stdout).toMatch(/Exit codes:/);
    const verify = cli(['verify', '--help']);
    expect(verify.stdout).toMatch(/--min-mutation-score <x> +with --mutants/);
    expect(verify.stdout).toMatch(
      / 1 {2}an invariant was violated.*with --min-mutation-score: the mutation score is below/,
    );
    expect(cli(['mutate', '--help']).stdout).toMatch(/Exit codes:/);
    const report = cli(['report', '--help']);
    expect(report.stdout).toMatch(/\$ whatbreaks report reports\/double-booking-buggy-/);
  });
});

describe('a usage error', () => {
  it('is one line and a pointer to the command help, not the whole help', () => {
    const r = cli(['run', 'scenarios/double-booking.yaml', '--trials', 'zero']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "error: option '--trials <n>' argument 'zero' is invalid. expected a whole number ≥ 1\n(see: whatbreaks run --help)\n",
    );
  });

  it('an unknown command points at the program help', () => {
    const r = cli(['runn']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: unknown command 'runn'\n/);
    expect(r.stderr).toContain('(see: whatbreaks --help)');
    expect(r.stderr).not.toMatch(/Options:|Commands:/);
  });
});

describe('whatbreaks report', () => {
  const runFolder = () => {
    const dir = tmp('report');
    writeFileSync(join(dir, 'report.json'), JSON.stringify(fixtureReport()));
    return dir;
  };

  it('accepts a run folder and renders its report.json', () => {
    const dir = runFolder();
    const r = cli(['report', dir, '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/fixture \[buggy\] on local: FAIL/);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toMatch(/^## ❌ fixture \[buggy\]: FAIL/);
  });

  it('given report.md: says to give report.json or its folder (no JSON parse error)', () => {
    const dir = runFolder();
    writeFileSync(join(dir, 'report.md'), '# not json\n');
    const r = cli(['report', join(dir, 'report.md')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /report\.md is a rendered report \(\.md\); whatbreaks report renders from the JSON/,
    );
    expect(r.stderr).toMatch(/hint: give report\.json \(or verify\.json\), or the run folder that holds it/);
    expect(r.stderr).not.toMatch(/Unexpected token|SyntaxError/);
  });

  it('a folder without a report, a file that is not JSON, a path that is not there: what it expected', () => {
    const empty = tmp('empty');
    const r = cli(['report', empty]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${empty} is a folder without report.json or verify.json`);
    expect(r.stderr).not.toMatch(/EISDIR/);
    writeFileSync(join(empty, 'x.json'), '{oops');
    const notJson = cli(['report', join(empty, 'x.json')]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(
      /x\.json is not JSON, so not a whatbreaks report\nhint: give report\.json/,
    );
    const missing = cli(['report', join(empty, 'nope')]);
    expect(missing.stderr).toMatch(/cannot read .*nope: no such file or folder\nhint: give report\.json/);
  });
});

describe('whatbreaks list', () => {
  it('outside the repository: names the folder it looked in and how to give one', () => {
    const cwd = tmp('list');
    const r = cli(['list'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no folder ${join(cwd, 'scenarios')} to list scenarios from`);
    expect(r.stderr).toContain('hint: without an argument, whatbreaks list looks in ./scenarios');
    expect(r.stderr).toContain('whatbreaks list <dir>');
    expect(r.stderr).not.toMatch(/ENOENT/);
    expect(cli(['list', join(ROOT, 'scenarios')], { cwd }).stdout).toMatch(/^double-booking /m);
  });
});

describe('replay --out', () => {
  it('refuses a folder that holds a report unless --force', () => {
    const dir = tmp('replay-out');
    writeFileSync(join(dir, 'report.json'), '{}');
    const r = cli(['replay', join(dir, 'report.json'), '--schedule', '0.1', '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already holds a report \(report\.json\); this run would overwrite it/);
    expect(readFileSync(join(dir, 'report.json'), 'utf8')).toBe('{}');
  });
});

describe('run --out', () => {
  it('refuses a folder that holds a report unless --force', () => {
    const dir = tmp('out');
    writeFileSync(join(dir, 'report.json'), '{}');
    const r = cli(['run', 'test/fixtures/flaky-exit-at-start.yaml', '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `whatbreaks: --out ${dir} already holds a report (report.json); this run would overwrite it\nhint: give a new folder, or add --force to overwrite it\n`,
    );
    expect(readFileSync(join(dir, 'report.json'), 'utf8')).toBe('{}');
    const forced = cli(['run', 'test/fixtures/flaky-exit-at-start.yaml', '--out', dir, '--force']);
    expect(forced.stderr).not.toMatch(/already holds a report/);
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).error.code).toBe('TARGET_FAILED');
  });

  it('verify refuses a folder that holds a verify', () => {
    const dir = tmp('out-verify');
    mkdirSync(join(dir, 'baseline'));
    writeFileSync(join(dir, 'baseline', 'report.json'), '{}');
    const r = cli([
      'verify',
      'scenarios/double-booking.yaml',
      '--baseline',
      'buggy',
      '--candidate',
      'fixed',
      '--out',
      dir,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('already holds a report (baseline/report.json)');
  });
});

describe('a run that breaks off before its first trial', () => {
  it('prints no reproduction rate or interval, and report.md keeps the log lines as lines', () => {
    const dir = join(tmp('broken'), 'run');
    const r = cli(['run', 'test/fixtures/flaky-exit-at-start.yaml', '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/0 trials: 0 passed, 0 failed, 0 unknown {2}\(\d+\.\d s\)/);
    expect(r.stdout).not.toMatch(/reproduction rate|Wilson/);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).not.toMatch(/reproduction rate|Wilson/);
    expect(md).toMatch(
      /> \*\*Error `TARGET_FAILED`\*\*: target exited before it became healthy \(exit code 3\)\n/,
    );
    expect(md).toMatch(
      /```text\nlast lines of [^\n]+:\n( {2}\| [^\n]*\n)* {2}\| fatal: cannot read config file \/etc\/flaky\.conf\n/,
    );
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/reproduction rate|Wilson/);
  });
});

describe('--env docker without a container runtime', () => {
  it('says so once', () => {
    // Port 9 (discard) on loopback: nothing answers, so testcontainers finds no runtime.
    const r = cli(['run', 'scenarios/double-booking.yaml', '--env', 'docker'], {
      env: { DOCKER_HOST: 'tcp://127.0.0.1:9', WHATBREAKS_ENV: 'docker' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^whatbreaks: --env docker: no container runtime was found \(/);
    expect(r.stderr.match(/no container runtime/g)).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\(no container runtime found \(/);
    expect(r.stderr).toMatch(/hint: start Docker/);
  });
});
