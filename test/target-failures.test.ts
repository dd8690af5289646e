import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../src/report/types.js';
import { cli } from './helpers.js';

/**
 * A target that exits at start, never becomes healthy, or crashes under load: a clear message with its
 * last log lines, the right exit code, and a report.json all the same.
 */
function run(fixture: string) {
  const out = mkdtempSync(join(tmpdir(), 'whatbreaks-flaky-'));
  const r = cli(['run', `test/fixtures/${fixture}`, '--out', out]);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  return { ...r, report };
}

describe('target failures', () => {
  it('exits at start: exit 2, its last lines shown, verdict unknown, report written', () => {
    const r = run('flaky-exit-at-start.yaml');
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/target exited before it became healthy \(exit code 3\)/);
    expect(r.stdout + r.stderr).toMatch(/\| fatal: cannot read config file \/etc\/flaky\.conf/);
    expect(r.report.verdict).toBe('unknown');
    expect(r.report.error?.code).toBe('TARGET_FAILED');
  });

  it('never healthy: exit 2 after the health deadline, with what the health check saw', () => {
    const r = run('flaky-never-healthy.yaml');
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(
      /did not become healthy within 2000 ms \(GET \/health answered 503\)/,
    );
    expect(r.stdout + r.stderr).toMatch(/\| flaky target starting in mode never-healthy/);
    expect(r.report.error?.code).toBe('TARGET_UNHEALTHY');
  });

  it('crashes under load: a finding — the trial fails naming the replica and its last lines', () => {
    const r = run('flaky-crash-under-load.yaml');
    expect(r.code, r.stderr).toBe(1);
    expect(r.report.verdict).toBe('fail');
    expect(r.report.trials).toHaveLength(2);
    const crash = r.report.trials[0]!.invariants.find((i) => i.name === 'target-survives');
    expect(crash).toMatchObject({ holds: false, summary: 'replica 0 exited during the trial (exit code 1)' });
    expect(String(crash?.witnesses[0]?.lastLines)).toMatch(/crash while handling POST \/work/);
    // The second trial ran on a restarted replica.
    expect(r.report.trials[1]!.invariants.some((i) => i.name === 'target-survives')).toBe(true);
  });
});
