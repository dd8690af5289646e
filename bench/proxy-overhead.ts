/**
 * Proxy overhead: latency the fault proxy (`src/faults/proxy.ts`) adds with no toxic, at a constant
 * 1,000 req/s, direct vs through the proxy. Acceptance target: added p50 ≤ 0.2 ms.
 *
 * Setup, as whatbreaks runs it: the upstream HTTP server is a separate Node process (a dependency);
 * the load generator and the proxy share this process (whatbreaks hosts both). Load is open-loop: request
 * i is due at start + i/rate whatever happened before it, and latency counts from that due time
 * (corrected for coordinated omission); "service" counts from the actual send. Targets are measured
 * in interleaved rounds (direct, proxy, proxy + a `latency 0` toxic, …) so drift hits all alike.
 * Histograms: hdr-histogram-js, µs, 3 significant digits.
 *
 * Build and run like the other benches (`bench/tsconfig.json` compiles them and what they import into
 * `dist/`). On a shared machine, SCHED_FIFO keeps other processes from preempting the measurement
 * (as for sync-spread; the upstream child inherits it):
 *
 *   npx tsc -p bench/tsconfig.json
 *   chrt -f 20 node dist/bench/proxy-overhead.js      # or plain `node dist/bench/proxy-overhead.js`
 *
 * Options: `--rate 1000 --round-s 0.5 --rounds 40 --warmup-s 1 --connections 32`. Prints a Markdown table.
 * Short interleaved rounds keep bursts of noise from other processes from landing on one target only;
 * "paired added p50" is the median over rounds of (target's p50 − direct's p50 in the same round), the
 * estimate least moved by such bursts. "max send lag" shows how late the scheduler was: when it is large,
 * the machine was busy and the tails say more about it than about the proxy.
 */
import { loadavg } from 'node:os';
import { startProxy } from '../src/faults/proxy.js';
import { measure, parseArgs, startOkServer, table } from './overhead.js';

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2), {
    rate: 1000,
    roundS: 0.5,
    rounds: 40,
    warmupS: 1,
    connections: 32,
  });
  const loadBefore = loadavg()[0]!;
  const upstream = await startOkServer('upstream');
  const plain = await startProxy({ name: 'bench', upstream: { host: '127.0.0.1', port: upstream.port } });
  const chained = await startProxy({
    name: 'bench-toxic',
    upstream: { host: '127.0.0.1', port: upstream.port },
  });
  await chained.addToxic({ type: 'latency', stream: 'both', attributes: { latency: 0 } });
  const origin = (port: number) => `http://127.0.0.1:${port}`;
  let measured: Awaited<ReturnType<typeof measure>>;
  try {
    measured = await measure(
      [
        { name: 'direct', origin: origin(upstream.port) },
        { name: 'proxy, no toxic', origin: origin(plain.address.port) },
        { name: 'proxy, latency 0 toxic both ways', origin: origin(chained.address.port) },
      ],
      o,
    );
  } finally {
    await plain.stop();
    await chained.stop();
    upstream.child.kill();
  }
  const { targets, paired } = measured;
  const lines = table(targets, paired, o, 'upstream in a child process', loadBefore);
  const d50 = targets[0]!.latency.getValueAtPercentile(50);
  const added = (targets[1]!.latency.getValueAtPercentile(50) - d50) / 1000;
  const addedPaired = paired(targets[1]!) / 1000;
  const verdict = (x: number) => `${x <= 0.2 ? 'PASS' : 'FAIL'} (${x.toFixed(3)} ms)`;
  lines.push(
    '',
    `Acceptance, added p50 through the proxy with no toxic ≤ 0.2 ms: pooled ${verdict(added)}, paired ${verdict(addedPaired)}.`,
  );
  console.log(lines.join('\n'));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
