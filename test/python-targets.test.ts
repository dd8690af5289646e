import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pendingCleanups } from '../src/env/teardown.js';
import { senders } from '../src/load/burst/registry.js';
import type { SyncMode } from '../src/load/burst/sender.js';
import type { RunReport, TrialReport } from '../src/report/types.js';
import { runScenario } from '../src/run.js';
import { loadScenario } from '../src/scenario/load.js';
import { leftovers, markTest, ROOT } from './helpers.js';

/**
 * Every sync mode against Python targets whatbreaks was not tuned on (`targets/py-*`, psycopg2 under
 * Debian's `/usr/bin/python3`): the standard library's ThreadingHTTPServer (HTTP/1.0, no keep-alive),
 * gunicorn's thread-pool worker (gthread, keep-alive) and gunicorn's default sync worker (no keep-alive).
 * Each scenario runs as written except `load.sync`. Per cell the verdict must be the right one, or
 * `unknown` with the reason on every unknown trial: never a violation on a fixed variant, never a pass on
 * a buggy one, and a buggy failure only from a trial whose every request was answered (a load that broke
 * off proves nothing). Single-packet needs HTTP/2, which none of these servers speaks: it must say so.
 * The default mode (last-byte) must judge every trial: the scenarios use whatbreaks' defaults on purpose.
 *
 * Trials per cell are few: the gunicorn targets' bug (a lost update under 200 requests) shows in every
 * trial; the http.server one needs its 2 requests within about a millisecond, which naive and barrier
 * managed in 17/20 trials each on a loaded machine (load average 13), so its buggy cells run 8 trials
 * (a miss in all 8 at that rate: about 3 in 10 million). The file's time goes almost all into starting
 * PostgreSQL and the target for each of the 24 cells: 8.9 min on 2 shared cores at load average 11–18.
 */
process.env.WHATBREAKS_ENV = 'local';
/** Every process a run of this file starts inherits this mark: leftovers are found by it. */
const MARK = markTest();

interface PythonScenario {
  file: string;
  server: string;
  trials: { buggy: number; fixed: number };
}

const SCENARIOS: PythonScenario[] = [
  { file: 'py-single-completion.yaml', server: 'http.server', trials: { buggy: 8, fixed: 4 } },
  { file: 'py-overselling.yaml', server: 'gunicorn gthread', trials: { buggy: 1, fixed: 2 } },
  { file: 'py-overselling-sync-worker.yaml', server: 'gunicorn sync', trials: { buggy: 1, fixed: 2 } },
];
const MODES = Object.keys(senders) as SyncMode[];
const DEFAULT_MODE: SyncMode = 'last-byte';

function violated(t: TrialReport): boolean {
  return t.invariants.some((i) => i.holds === false);
}

function answered(t: TrialReport): number {
  return Object.values(t.load.statusCounts).reduce((a, b) => a + b, 0);
}

async function runCell(
  file: string,
  variant: string,
  sync: SyncMode,
  trials: number,
): Promise<{ report: RunReport; requests: number }> {
  const s = loadScenario(join(ROOT, 'scenarios', file));
  const scenario = { ...s, load: { ...s.load, sync } as typeof s.load };
  const outDir = mkdtempSync(join(tmpdir(), 'whatbreaks-test-python-'));
  const { report } = await runScenario(scenario, { variant, trials, outDir });
  expect(pendingCleanups()).toEqual([]);
  expect(await leftovers(MARK)).toEqual({ processes: [], dirs: [] });
  return { report, requests: (s.load as { requests: number }).requests };
}

/** What each trial came to, for the failure message. */
function describeTrials(r: RunReport): string {
  return r.trials
    .map(
      (t) =>
        `trial ${t.trial} ${t.verdict} ${JSON.stringify(t.load.statusCounts)}${t.inconclusive ? ` (${t.inconclusive})` : ''}`,
    )
    .join('\n');
}

describe('the Python targets can run here', () => {
  it('Debian python3 has psycopg2, and gunicorn is installed (apt-get install python3-psycopg2 gunicorn)', () => {
    const py = spawnSync('/usr/bin/python3', ['-c', 'import psycopg2'], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    const gunicorn = spawnSync('/usr/bin/gunicorn', ['--version'], { encoding: 'utf8' });
    expect(gunicorn.status, gunicorn.stderr).toBe(0);
  });
});

describe.each(SCENARIOS)('$file ($server)', ({ file, trials }) => {
  const cells = MODES.flatMap((sync) => (['fixed', 'buggy'] as const).map((variant) => ({ sync, variant })));
  it.each(cells)('$variant, sync $sync', { timeout: 240_000 }, async ({ sync, variant }) => {
    const { report, requests } = await runCell(file, variant, sync, trials[variant]);
    const detail = describeTrials(report);
    expect(report.error, detail).toBeUndefined();
    expect(report.trials.length, detail).toBe(trials[variant]);
    for (const t of report.trials) {
      // Unknown only with the reason given.
      if (t.verdict === 'unknown') expect(t.inconclusive ?? '', detail).not.toBe('');
    }
    if (sync === 'single-packet') {
      // HTTP/2 only; these servers speak HTTP/1.x: the mode cannot work and must say why.
      expect(report.verdict, detail).toBe('unknown');
      for (const t of report.trials) expect(t.inconclusive, detail).toMatch(/HTTP\/2|h2c/);
      return;
    }
    if (sync === DEFAULT_MODE) expect(report.summary.unknown, detail).toBe(0);
    if (variant === 'fixed') {
      expect(report.trials.filter(violated), detail).toEqual([]);
      expect(['pass', 'unknown'], detail).toContain(report.verdict);
    } else {
      expect(report.verdict, detail).not.toBe('pass');
      // A failure is evidence only when the burst ran as written: every request answered.
      for (const t of report.trials.filter((t) => t.verdict === 'fail')) {
        expect(answered(t), detail).toBe(requests);
        expect(t.inconclusive, detail).toBeUndefined();
      }
    }
  });
});
