/**
 * Cost of a mutant's rewrite per statement, as a proxy would pay it on the fly: for each statement of
 * the example targets' corpus (`test/fixtures/sql-corpus.ts`), µs per call of
 *
 * - `parse`: libpg-query parse + fingerprint of each statement (what any rewrite pays first);
 * - `miss`: a rewriter whose point does not match the statement (parse, compare fingerprints), uncached;
 * - `hit`: the matching rewriter, uncached (parse, mutate a copy, deparse, parse back, compare);
 * - `cached`: the matching rewriter on a text it has seen (a Map lookup).
 *
 * Interleaved rounds; median over rounds of the per-call mean. Build and run like the other benches:
 *
 *   npx tsc -p bench/tsconfig.json && node dist/bench/mutate-rewrite.js [--rounds 20] [--calls 200]
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { discoverMutationPoints, rewriterFor } from '../src/mutate/discover.js';
import { parseSql } from '../src/mutate/sql-parser.js';
import { corpus } from '../test/fixtures/sql-corpus.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const rounds = arg('rounds', 20);
  const calls = arg('calls', 200);
  const load = loadavg()[0]!;
  const statements = corpus.flatMap((t) => t.statements);
  const d = await discoverMutationPoints(statements.map((sql) => ({ sql, count: 1 })));
  const other = d.points[0]!;
  const samples: Record<string, number[]> = { parse: [], miss: [], hit: [], cached: [] };
  const time = (fn: () => void) => {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) fn();
    return ((performance.now() - t0) * 1000) / calls;
  };
  for (let r = 0; r < rounds; r++) {
    for (const p of d.points) {
      const sql = p.example.sql;
      samples.parse!.push(time(() => parseSql(sql)));
      const miss = d.points.find((x) => x.fingerprint !== p.fingerprint) ?? other;
      samples.miss!.push(time(() => rewriterFor(miss).rewrite(sql)));
      samples.hit!.push(time(() => rewriterFor(p).rewrite(sql)));
      const cached = rewriterFor(p);
      cached.rewrite(sql);
      samples.cached!.push(time(() => cached.rewrite(sql)));
    }
  }
  console.log(
    `${d.points.length} mutation points, ${rounds} rounds × ${calls} calls; load average ${load.toFixed(1)}`,
  );
  console.log('| step | median µs/call | p90 µs/call |\n|---|---|---|');
  for (const [k, xs] of Object.entries(samples)) {
    const p90 = [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;
    console.log(`| ${k} | ${median(xs).toFixed(1)} | ${p90.toFixed(1)} |`);
  }
}

await main();
