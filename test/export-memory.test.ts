import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../src/report/types.js';
import { cli, leftovers, markTest } from './helpers.js';

/**
 * The export scenario end to end through the CLI, at 300,000 rows: real PostgreSQL (rows generated
 * once per run), the real export target, the RSS sampler and its enforced limit.
 */
const SCENARIO = 'test/fixtures/export-memory-small.yaml';
let mark: string;
beforeEach(() => {
  mark = markTest();
});

async function run(variant: string) {
  const out = mkdtempSync(join(tmpdir(), 'wb-export-'));
  const r = cli(['run', SCENARIO, '--variant', variant, '--out', out]);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  // Other runs share this machine: judge teardown by this run's own PostgreSQL log and by what carries
  // this test's mark (the target, PostgreSQL) or is named for the CLI's pid (its data folder).
  const pgStopped = /database system is shut down/.test(
    readFileSync(join(out, 'logs', 'postgres.log'), 'utf8'),
  );
  return { ...r, report, pgStopped, left: await leftovers(mark, r.pid) };
}

describe('export-memory', () => {
  it('buggy: the whole table in memory passes the limit, the replica is killed, exit 1', async () => {
    const { code, stdout, report, pgStopped, left } = await run('buggy');
    expect(report.error).toBeUndefined();
    expect(code, stdout).toBe(1);
    expect(report.trials).toHaveLength(2);
    for (const t of report.trials) {
      const mem = t.invariants.find((i) => i.type === 'memory')!;
      expect(mem.holds).toBe(false);
      expect(mem.witnesses[0]).toMatchObject({
        replica: 0,
        killSignal: 'SIGKILL',
        killedBy: 'enforced memory limit',
      });
      expect(t.rss?.[0]?.oomKilled).toBe(true);
      expect(t.rss?.[0]?.peakMiB).toBeGreaterThan(300);
    }
    // Trial 2 ran on a restarted replica: the kill was the memory limit's, not a crash.
    expect(stdout).toMatch(/killed by SIGKILL/);
    expect(pgStopped).toBe(true);
    expect(left).toEqual({ processes: [], dirs: [] });
  });

  it('fixed: streams under the ceiling and delivers every row, exit 0', async () => {
    const { code, stdout, report, pgStopped, left } = await run('fixed');
    expect(code, stdout).toBe(0);
    for (const t of report.trials) {
      expect(t.rss?.[0]?.peakMiB).toBeLessThanOrEqual(128);
      expect(t.rss?.[0]?.timeline.length).toBeGreaterThan(5);
      expect(t.load.records[0]?.bodyLines).toBe(300_001);
      expect(t.invariants.every((i) => i.holds === true)).toBe(true);
    }
    expect(pgStopped).toBe(true);
    expect(left).toEqual({ processes: [], dirs: [] });
  });
});
