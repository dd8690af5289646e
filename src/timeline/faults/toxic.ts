import { z } from 'zod';
import { tcpProxyOf } from '../../env/dependencies.js';
import { toxicConfigSchema } from '../../faults/toxics/registry.js';
import { type Fault, type FaultCheckContext, faultConfig } from '../fault.js';

/**
 * `toxic`: add a Toxiproxy toxic (`src/faults/toxics/`: latency, bandwidth, slow_close, timeout,
 * reset_peer, slicer, limit_data, down) to a TCP fault proxy for `for` — a dependency declared with
 * `proxy: tcp`, or `postgres` with `database.proxy: true`. The toxic acts on open connections too and
 * is removed at `at + for` (or when the load ends) without dropping data in flight.
 *
 * ```yaml
 * faults:
 *   - type: toxic
 *     at: 0s
 *     proxy: upstream
 *     toxic: { type: latency, stream: downstream, attributes: { latency: 300, jitter: 50 } }
 *   - { type: toxic, at: 2s, for: 3s, proxy: postgres, toxic: { type: latency, attributes: { latency: 100 } } }
 * ```
 */
export const config = faultConfig('toxic', {
  proxy: z
    .string()
    .min(1)
    .meta({ description: 'Name of the TCP proxy: a dependency with `proxy: tcp`, or `postgres`.' }),
  toxic: toxicConfigSchema.meta({
    description: "The toxic, in Toxiproxy's JSON shape (`{ type, name?, stream?, toxicity?, attributes }`).",
  }),
}).meta({
  description:
    '`toxic`: add a Toxiproxy toxic (`src/faults/toxics/`: latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data, down) to a TCP fault proxy for `for` — a dependency declared with `proxy: tcp`, or `postgres` with `database.proxy: true`. The toxic acts on open connections too and is removed at `at + for` (or when the load ends) without dropping data in flight.',
  yaml: 'faults:\n  - type: toxic\n    at: 0s\n    proxy: upstream\n    toxic: { type: latency, stream: downstream, attributes: { latency: 300, jitter: 50 } }\n  - { type: toxic, at: 2s, for: 3s, proxy: postgres, toxic: { type: latency, attributes: { latency: 100 } } }',
});
export type ToxicFaultConfig = z.output<typeof config>;

function toxicName(cfg: ToxicFaultConfig): string {
  return cfg.toxic.name ?? `${cfg.toxic.type}_${cfg.toxic.stream}`;
}

export function create(cfg: ToxicFaultConfig): Fault {
  return {
    type: 'toxic',
    target: `proxy ${cfg.proxy}`,
    async apply(ctx) {
      const proxy = tcpProxyOf(ctx.env.dependencies, cfg.proxy);
      const info = await proxy.addToxic(cfg.toxic);
      ctx.note(`${info.name}: ${JSON.stringify(info.attributes)} (toxicity ${info.toxicity})`);
      return async () => {
        await proxy.removeToxic(info.name);
        ctx.note('removed');
      };
    },
  };
}

/** One toxic name per proxy at a time (the proxy rejects duplicates). */
export function resources(cfg: ToxicFaultConfig): string[] {
  return [`toxic:${cfg.proxy}:${toxicName(cfg)}`];
}

export function check(cfg: ToxicFaultConfig, ctx: FaultCheckContext): string[] {
  const kind = ctx.dependencies?.[cfg.proxy];
  if (kind === 'tcp') return [];
  const tcp = Object.entries(ctx.dependencies ?? {})
    .filter(([, k]) => k === 'tcp')
    .map(([n]) => n);
  return [
    kind === undefined
      ? `no proxy named '${cfg.proxy}'${tcp.length ? `; TCP proxies: ${tcp.join(', ')}` : '; declare a dependency with proxy: tcp, or set database.proxy: true for postgres'}`
      : `dependency '${cfg.proxy}' has proxy: ${kind}; toxics need proxy: tcp`,
  ];
}
