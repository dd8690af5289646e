/**
 * How often does each sync mode catch a race that is about a millisecond wide? The buggy `jobs` target
 * (check-then-act, `targets/jobs`) gets exactly 2 concurrent completes of one job per trial, TRIALS
 * trials per mode: the reproduction rate is the share of trials in which an invariant of
 * `scenarios/single-completion.yaml` was violated. The fixed target gets the same: any violation there is
 * a false alarm.
 *
 * Build and run (see bench/README.md):
 *   npm run build && npx tsc -p bench/tsconfig.json && node dist/bench/repro-rate.js [--trials 100] [--modes …]
 *
 * Each (variant, mode) is one whatbreaks run with the scenario's `requests` set to 2 and `sync` to the
 * mode, so the numbers include everything a user's run does (fresh database per trial, warm-up).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runScenario } from '../src/run.js';
import { loadScenario } from '../src/scenario/load.js';
import type { Scenario } from '../src/scenario/types.js';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '100' },
    modes: { type: 'string', default: 'naive,barrier,last-byte,single-packet' },
    requests: { type: 'string', default: '2' },
  },
});
const trials = Number(values.trials);
const modes = values.modes.split(',');
const requests = Number(values.requests);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const base = loadScenario(join(root, 'scenarios', 'single-completion.yaml'));

function withMode(s: Scenario, sync: string): Scenario {
  return { ...s, load: { ...s.load, requests, sync } as Scenario['load'] };
}

const rows: string[][] = [];
for (const mode of modes) {
  const row = [mode];
  for (const variant of ['buggy', 'fixed']) {
    const { report } = await runScenario(withMode(base, mode), {
      variant,
      trials,
      outDir: mkdtempSync(join(tmpdir(), `whatbreaks-repro-${mode}-${variant}-`)),
    });
    const s = report.summary;
    const spreads = report.trials.map((t) => t.load.sendSpreadMs ?? 0).sort((a, b) => a - b);
    const median = spreads[Math.floor(spreads.length / 2)] ?? 0;
    row.push(`${s.failed}/${s.trials}${s.unknown ? ` (${s.unknown} unknown)` : ''}`);
    if (variant === 'buggy') row.push(median.toFixed(3));
    process.stderr.write(
      `${mode} ${variant}: ${s.failed}/${s.trials} violated${report.error ? ` — ${report.error.message}` : ''}\n`,
    );
  }
  rows.push(row);
}

const header = [
  'mode',
  `buggy: trials violated (N=${requests})`,
  'median send spread ms',
  'fixed: false violations',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
