/**
 * What `load.type: interleave` costs and whether its replays hold: for each interleave scenario and
 * variant, the whole exploration (schedules, wall time of the trials, schedules/s including each
 * trial's database reset and checks), then one failing schedule of the jobs target replayed `--replays`
 * times (how many of them failed).
 *
 * ```sh
 * npm run build && npx tsc -p bench/tsconfig.json && node dist/bench/interleave.js   # --replays 100
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RunReport } from '../src/report/types.js';
import { runScenario } from '../src/run.js';
import { loadScenario } from '../src/scenario/load.js';
import type { Scenario } from '../src/scenario/types.js';

const ROOT = join(import.meta.dirname, '..', '..');
const replaysArg = process.argv.indexOf('--replays');
const REPLAYS = replaysArg > 0 ? Number(process.argv[replaysArg + 1]) : 100;
const out = mkdtempSync(join(tmpdir(), 'whatbreaks-interleave-bench-'));
let n = 0;

async function run(s: Scenario, variant: string, trials?: number): Promise<{ r: RunReport; wallMs: number }> {
  const t0 = performance.now();
  const { report } = await runScenario(s, { variant, trials, outDir: join(out, `run-${++n}`) });
  if (report.error) throw new Error(`${s.name} ${variant}: ${report.error.message}`);
  return { r: report, wallMs: performance.now() - t0 };
}

const rows: string[][] = [];
function row(name: string, variant: string, r: RunReport, wallMs: number): void {
  const trialMs = r.trials.reduce((a, t) => a + t.durationMs, 0);
  const s = r.summary;
  rows.push([
    name,
    variant,
    String(s.trials),
    r.interleave?.exhaustive ? 'yes' : r.interleave?.pinned ? 'pinned' : 'no',
    `${s.passed}/${s.failed}/${s.unknown}`,
    (trialMs / 1000).toFixed(2),
    (s.trials / (trialMs / 1000)).toFixed(1),
    (trialMs / s.trials).toFixed(0),
    (wallMs / 1000).toFixed(1),
  ]);
}

const files = [
  'scenarios/single-completion-interleave.yaml',
  'scenarios/py-single-completion-interleave.yaml',
  'scenarios/double-booking-interleave.yaml',
];
let failing: string | undefined;
for (const f of files) {
  const s = loadScenario(join(ROOT, f));
  for (const variant of ['buggy', 'fixed']) {
    const { r, wallMs } = await run(s, variant);
    row(s.name, variant, r, wallMs);
    if (f.includes('/single-completion') && variant === 'buggy') {
      failing = r.trials.find((t) => t.verdict === 'fail')?.load.interleave?.schedule;
    }
  }
}
const jobs = loadScenario(join(ROOT, files[0]!));
if (!failing || jobs.load.type !== 'interleave') throw new Error('no failing schedule on the jobs target');
const { r: replay, wallMs } = await run(
  { ...jobs, load: { ...jobs.load, schedule: failing } },
  'buggy',
  REPLAYS,
);
row(`replay ${failing}`, 'buggy', replay, wallMs);

const header = [
  'scenario',
  'variant',
  'schedules',
  'exhaustive',
  'pass/fail/unknown',
  'trials s',
  'schedules/s',
  'ms/schedule',
  'wall s',
];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(
  `\nreplay of ${failing}: ${replay.summary.failed}/${replay.summary.trials} failed, ${replay.summary.unknown} unknown`,
);
rmSync(out, { recursive: true, force: true });
