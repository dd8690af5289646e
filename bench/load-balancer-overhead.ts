/**
 * Load balancer overhead: latency the built-in balancer (`src/env/load-balancer.ts`) adds in front of
 * target replicas, at a constant 1,000 req/s, direct vs through the balancer.
 *
 * Setup, as whatbreaks runs it: each replica is a minimal HTTP server in its own Node process (the
 * target); the load generator and the balancer share this process (whatbreaks hosts both). Load is
 * open-loop: request i is due at start + i/rate whatever happened before it, and latency counts from
 * that due time (corrected for coordinated omission); "service" counts from the actual send. Targets are
 * measured in interleaved rounds (direct, balancer over 1 replica, balancer over 2, …) so drift and
 * bursts of noise from other processes hit all alike; "paired added p50" is the median over rounds of
 * (target's p50 − direct's p50 in the same round). Histograms: hdr-histogram-js, µs, 3 significant digits.
 *
 * Run from the repository root (the bench is type-checked by the root tsconfig and compiled by
 * `bench/tsconfig.json` into `dist/`):
 *
 *   npx tsc -p bench/tsconfig.json && node dist/bench/load-balancer-overhead.js
 *
 * Options: `--rate 1000 --round-s 0.5 --rounds 30 --warmup-s 1 --connections 32`. Prints a Markdown
 * table. A large "max send lag" means the machine was busy: the tails then say more about it than about
 * the balancer.
 */
import { loadavg } from 'node:os';
import { type LoadBalancer, startLoadBalancer } from '../src/env/load-balancer.js';
import { measure, parseArgs, startOkServer, table } from './overhead.js';

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2), {
    rate: 1000,
    roundS: 0.5,
    rounds: 30,
    warmupS: 1,
    connections: 32,
  });
  const loadBefore = loadavg()[0]!;
  const replicas = [await startOkServer('replica'), await startOkServer('replica')];
  const url = (port: number) => new URL(`http://127.0.0.1:${port}`);
  const balancers: LoadBalancer[] = [
    await startLoadBalancer({ upstreams: [{ id: 0, url: url(replicas[0]!.port) }] }),
    await startLoadBalancer({ upstreams: replicas.map((r, id) => ({ id, url: url(r.port) })) }),
  ];
  let measured: Awaited<ReturnType<typeof measure>>;
  try {
    measured = await measure(
      [
        { name: 'direct (replica 0)', origin: url(replicas[0]!.port).origin },
        { name: 'balancer, 1 replica', origin: balancers[0]!.url.origin },
        { name: 'balancer, 2 replicas round-robin', origin: balancers[1]!.url.origin },
      ],
      o,
    );
  } finally {
    for (const b of balancers) await b.stop();
    for (const r of replicas) r.child.kill();
  }
  const { targets, paired } = measured;
  console.log(
    table(targets, paired, o, 'replicas in child processes, balancer in this process', loadBefore).join('\n'),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
