import { z } from 'zod';
import { httpProxyOf } from '../../env/dependencies.js';
import { type Fault, faultConfig } from '../fault.js';
import { describeHttpFault, check as httpCheck, resources as httpResources } from './http-fault.js';

/**
 * `upstream-down`: an outage of a dependency, as it happens in production — the dependency falls over,
 * so every call in flight fails at that instant (`fail-in-flight`, or `reset-in-flight` for a crash
 * that drops connections), and every call until `at + for` gets `status` (503) at once. Sugar for an
 * `http-fault` with `{ type: status, status, onStart }`.
 *
 * Failing what is in flight is what makes a herd (the herd's physics): callers whose calls
 * failed together start their backoff clocks together; a 503 that only meets new arrivals spreads the
 * failures as evenly as the arrivals and no waves form.
 *
 * ```yaml
 * faults:
 *   - { type: upstream-down, at: 2s, for: 5s }                     # dependency `upstream`, 503
 *   - { type: upstream-down, at: 2s, for: 5s, dependency: stock, onStart: reset-in-flight }
 * ```
 */
export const config = faultConfig('upstream-down', {
  dependency: z
    .string()
    .min(1)
    .default('upstream')
    .meta({ description: 'Dependency name (declared with `proxy: http`).' }),
  status: z.int().min(500).max(599).default(503).meta({ description: 'What the outage answers.' }),
  onStart: z.enum(['fail-in-flight', 'reset-in-flight', 'let-finish']).default('fail-in-flight').meta({
    description: 'The calls in flight when it begins: failed with `status`, reset, or left to finish.',
  }),
}).meta({
  description:
    '`upstream-down`: an outage of a dependency, as it happens in production — the dependency falls over, so every call in flight fails at that instant (`fail-in-flight`, or `reset-in-flight` for a crash that drops connections), and every call until `at + for` gets `status` (503) at once. Sugar for an `http-fault` with `{ type: status, status, onStart }`.',
  yaml: 'faults:\n  - { type: upstream-down, at: 2s, for: 5s }                     # dependency `upstream`, 503\n  - { type: upstream-down, at: 2s, for: 5s, dependency: stock, onStart: reset-in-flight }',
});
export type UpstreamDownConfig = z.output<typeof config>;

export function create(cfg: UpstreamDownConfig): Fault {
  return {
    type: 'upstream-down',
    target: cfg.dependency,
    async apply(ctx) {
      const proxy = httpProxyOf(ctx.env.dependencies, cfg.dependency);
      const inFlight = proxy.inFlightCount;
      const f = proxy.setFault({
        type: 'status',
        status: cfg.status,
        body: `${cfg.dependency} is down (whatbreaks upstream-down)\n`,
        onStart: cfg.onStart,
      });
      ctx.note(describeHttpFault(f, inFlight));
      return async () => proxy.clearFault();
    },
  };
}

export const resources = httpResources;
export const check = httpCheck;
