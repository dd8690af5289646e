import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pendingCleanups } from '../src/env/teardown.js';
import { validateReport } from '../src/report/schema.js';
import { loadScenario } from '../src/scenario/load.js';
import { type VerifyReport, verify } from '../src/verify.js';
import { cli, processesWithMark, ROOT } from './helpers.js';

/**
 * `verify` end to end: real PostgreSQL, real targets, the real CLI. Trials are kept small (3); the
 * double-booking bug reproduces in every trial of the buggy variant (see races.test.ts).
 */
const TRIALS = 3;
const XSD = join(ROOT, 'test', 'fixtures', 'junit.xsd');
process.env.WHATBREAKS_ENV = 'local'; // embedded PostgreSQL + child processes, also if docker answers
const hasXmllint = spawnSync('xmllint', ['--version']).status === 0;
if (!hasXmllint)
  console.warn(
    'verify.test.ts: xmllint missing (apt-get install libxml2-utils): junit.xml schema checks skipped',
  );

/**
 * Processes started by this test file: every child inherits this variable (other engineers' runs on
 * the same machine do not), so leftovers are found by it rather than by a before/after diff.
 */
const MARK = `WHATBREAKS_TEST_MARK=${randomUUID()}`;
process.env.WHATBREAKS_TEST_MARK = MARK.split('=')[1];

const ours = () => processesWithMark(MARK);

function out(): string {
  return mkdtempSync(join(tmpdir(), 'whatbreaks-test-verify-'));
}

function readVerify(dir: string): VerifyReport {
  return JSON.parse(readFileSync(join(dir, 'verify.json'), 'utf8'));
}

function expectAlternating(v: VerifyReport, n: number) {
  const expected = Array.from({ length: n }, (_, i) => [`baseline ${i + 1}`, `candidate ${i + 1}`]).flat();
  expect(v.order.map((o) => `${o.side} ${o.trial}`)).toEqual(expected);
}

function expectValidOutputs(dir: string) {
  for (const side of ['baseline', 'candidate']) {
    const r = validateReport(JSON.parse(readFileSync(join(dir, side, 'report.json'), 'utf8')));
    expect(r.ok ? [] : r.issues).toEqual([]);
    for (const f of ['report.md', 'report.html', 'junit.xml'])
      expect(readFileSync(join(dir, side, f), 'utf8').length).toBeGreaterThan(100);
  }
  if (hasXmllint) {
    for (const f of ['junit.xml', 'baseline/junit.xml', 'candidate/junit.xml']) {
      execFileSync('xmllint', ['--noout', '--schema', XSD, join(dir, f)], { stdio: 'pipe' });
    }
  }
}

describe('whatbreaks verify (CLI)', () => {
  it('buggy → fixed: fix validated, both rates with Wilson intervals, the bound, exit 0', () => {
    const dir = out();
    const r = cli([
      'verify',
      'scenarios/double-booking.yaml',
      '--baseline',
      'buggy',
      '--candidate',
      'fixed',
      '--trials',
      String(TRIALS),
      '--out',
      dir,
    ]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.stdout).toContain('double-booking: fix validated');
    expect(r.stdout).toMatch(
      /baseline +buggy: violated in 3\/3 trials {2}rate 100% \(95% Wilson CI 44%–100%\)/,
    );
    expect(r.stdout).toMatch(/candidate +fixed: violated in 0\/3 trials {2}rate 0% \(95% Wilson CI 0%–56%\)/);
    expect(r.stdout).toMatch(
      /candidate failure rate ≤ 63% \(95%, exact 1−0\.05\^\(1\/3\)\); rule of three: ≤ 100%/,
    );
    // 3 clean trials bound little: verify says how many a bound below 5 % takes.
    expect(r.stdout).toContain(
      'a bound below 5% needs 59 candidate trials without a failure (this run: 3); run with --trials 59',
    );
    // verify has no --env option: its environment line must not name one.
    expect(r.stderr).toMatch(/environment: local — embedded PostgreSQL, target as child processes/);
    expect(r.stderr).not.toContain('--env');
    expect(r.code).toBe(0);
    const v = readVerify(dir);
    expect(v.verdict).toBe('fix validated');
    expectAlternating(v, TRIALS);
    expect(v.baseline.violated['no-overbooking']).toBe(TRIALS);
    expect(v.candidate.failureBound.exact95).toBeCloseTo(1 - 0.05 ** (1 / 3), 10);
    expect(readFileSync(join(dir, 'verify.md'), 'utf8')).toMatch(/^## ✅ double-booking: fix validated/);
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuites [^>]*failures="0" errors="0"/);
    expectValidOutputs(dir);
    expect(ours()).toEqual([]);
  });

  it('fixed → buggy (swapped): fix not validated, exit 1, the candidate witnesses in verify.md', () => {
    const dir = out();
    const r = cli([
      'verify',
      'scenarios/double-booking.yaml',
      '--baseline',
      'fixed',
      '--candidate',
      'buggy',
      '--trials',
      String(TRIALS),
      '--out',
      dir,
    ]);
    expect(r.stdout).toContain('double-booking: fix not validated');
    expect(r.code).toBe(1);
    const v = readVerify(dir);
    expectAlternating(v, TRIALS);
    expect(v.candidate.failed).toBe(TRIALS);
    expect(readFileSync(join(dir, 'verify.md'), 'utf8')).toMatch(
      /### Candidate witnesses[\s\S]*\| truck \| capacity_kg \| booked_kg \| bookings \|/,
    );
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toMatch(
      /name="candidate \(buggy\) holds every invariant"[^>]*>\s*<failure message="fix not validated"/,
    );
    if (hasXmllint)
      execFileSync('xmllint', ['--noout', '--schema', XSD, join(dir, 'junit.xml')], { stdio: 'pipe' });
  });

  it('fixed → fixed: not reproduced, exit 1, says the scenario cannot judge the fix', () => {
    const dir = out();
    const r = cli([
      'verify',
      'scenarios/single-completion.yaml',
      '--baseline',
      'fixed',
      '--candidate',
      'fixed',
      '--trials',
      '2',
      '--out',
      dir,
      '-q',
    ]);
    expect(r.stdout).toContain('single-completion: not reproduced');
    expect(r.stdout).toContain('cannot judge the fix');
    expect(r.code).toBe(1);
  });

  it('an unknown variant is a usage error before anything starts: exit 2', () => {
    const r = cli(['verify', 'scenarios/double-booking.yaml', '--baseline', 'buggy', '--candidate', 'fixd']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no variant 'fixd'/);
  });
});

describe('verify (API) with a folder side', () => {
  it('runs the candidate from a checkout folder: the target cwd is re-rooted there', async () => {
    // A stand-in for a git worktree of the pull request: the same layout (scenarios/, dist/targets/…),
    // whose booking server is the fixed code even when run as the scenario's default variant (buggy).
    const checkout = mkdtempSync(join(tmpdir(), 'whatbreaks-test-checkout-'));
    writeFileSync(join(checkout, 'package.json'), '{"name":"pr-checkout","type":"module"}\n');
    mkdirSync(join(checkout, 'scenarios'));
    mkdirSync(join(checkout, 'dist', 'targets', 'booking'), { recursive: true });
    writeFileSync(
      join(checkout, 'dist', 'targets', 'booking', 'server.js'),
      `process.env.VARIANT = 'fixed';\nawait import(${JSON.stringify(join(ROOT, 'dist', 'targets', 'booking', 'server.js'))});\n`,
    );
    const scenario = loadScenario(join(ROOT, 'scenarios', 'double-booking.yaml'));
    let duringRun: string[] = [];
    const { report } = await verify(scenario, {
      baseline: 'buggy',
      candidate: checkout,
      trials: 2,
      outDir: out(),
      onEvent: ({ event }) => {
        if (event.type === 'trial-start' && duringRun.length === 0) duringRun = ours();
      },
    });
    // The leftover detector sees the run's processes while it runs: both PostgreSQL servers, and the
    // candidate's target started from the checkout folder.
    expect(duringRun.filter((p) => /postgres/.test(p)).length).toBeGreaterThanOrEqual(2);
    expect(duringRun.some((p) => p.includes('dist/targets/booking/server.js'))).toBe(true);
    expect(report.candidate).toMatchObject({
      kind: 'path',
      path: checkout,
      variant: 'buggy',
      failed: 0,
      passed: 2,
    });
    expect(report.verdict).toBe('fix validated');
    expect(pendingCleanups()).toEqual([]);
    expect(ours()).toEqual([]);
  });
});
