import { z } from 'zod';
import { httpProxyOf } from '../../env/dependencies.js';
import { httpFaultSchema } from '../../faults/http-faults.js';
import { type Fault, type FaultCheckContext, faultConfig } from '../fault.js';

/**
 * `http-fault`: set an HTTP fault (`src/faults/http-faults.ts`: `status`, `abort`, `delay`, for every
 * request, the `first` N or a `probability`, optionally a `pathPrefix`) on a dependency's HTTP fault
 * proxy (`proxy: http`) for `for`, then clear it. `onStart` says what happens to the calls in flight
 * when it begins: `let-finish` (default), `fail-in-flight` (answer them with the fault now) or
 * `reset-in-flight` (TCP RST) — the last two correlate failures in time, as a crash does.
 *
 * ```yaml
 * faults:
 *   - type: http-fault
 *     at: 2s
 *     for: 5s
 *     dependency: upstream
 *     fault: { type: status, status: 503, onStart: fail-in-flight }
 *   - { type: http-fault, at: 3s, for: 1s, dependency: upstream, fault: { type: abort, probability: 0.1 } }
 * ```
 */
export const config = faultConfig('http-fault', {
  dependency: z.string().min(1).meta({ description: 'Dependency name (declared with `proxy: http`).' }),
  fault: httpFaultSchema,
}).meta({
  description:
    "`http-fault`: set an HTTP fault (`src/faults/http-faults.ts`: `status`, `abort`, `delay`, for every request, the `first` N or a `probability`, optionally a `pathPrefix`) on a dependency's HTTP fault proxy (`proxy: http`) for `for`, then clear it. `onStart` says what happens to the calls in flight when it begins: `let-finish` (default), `fail-in-flight` (answer them with the fault now) or `reset-in-flight` (TCP RST) — the last two correlate failures in time, as a crash does.",
  yaml: 'faults:\n  - type: http-fault\n    at: 2s\n    for: 5s\n    dependency: upstream\n    fault: { type: status, status: 503, onStart: fail-in-flight }\n  - { type: http-fault, at: 3s, for: 1s, dependency: upstream, fault: { type: abort, probability: 0.1 } }',
});
export type HttpFaultConfig = z.output<typeof config>;

export function create(cfg: HttpFaultConfig): Fault {
  return {
    type: 'http-fault',
    target: cfg.dependency,
    async apply(ctx) {
      const proxy = httpProxyOf(ctx.env.dependencies, cfg.dependency);
      const inFlight = proxy.inFlightCount;
      const f = proxy.setFault(cfg.fault);
      ctx.note(describeHttpFault(f, inFlight));
      return async () => proxy.clearFault();
    },
  };
}

/** `status 503 to every request; fail-in-flight: 212 in flight`. */
export function describeHttpFault(f: HttpFaultConfig['fault'], inFlight: number): string {
  const what =
    f.type === 'status'
      ? `status ${f.status}`
      : f.type === 'abort'
        ? `abort${f.afterBytes !== undefined ? ` after ${f.afterBytes} bytes` : ''}${f.reset ? ' (RST)' : ''}`
        : `delay ${f.delayMs} ms`;
  const which =
    f.first !== undefined
      ? `the first ${f.first} requests`
      : f.probability !== undefined
        ? `p=${f.probability} per request`
        : 'every request';
  return `${what} to ${which}${f.pathPrefix ? ` under ${f.pathPrefix}` : ''}; ${f.onStart}: ${inFlight} in flight`;
}

/** One HTTP fault per proxy at a time (`setFault` replaces the previous one). */
export function resources(cfg: Pick<HttpFaultConfig, 'dependency'>): string[] {
  return [`http:${cfg.dependency}`];
}

export function check(cfg: Pick<HttpFaultConfig, 'dependency'>, ctx: FaultCheckContext): string[] {
  const kind = ctx.dependencies?.[cfg.dependency];
  if (kind === 'http') return [];
  const http = Object.entries(ctx.dependencies ?? {})
    .filter(([, k]) => k === 'http')
    .map(([n]) => n);
  return [
    kind === undefined
      ? `no dependency named '${cfg.dependency}'${http.length ? `; behind HTTP proxies: ${http.join(', ')}` : ' (declare it under dependencies:)'}`
      : `dependency '${cfg.dependency}' has proxy: ${kind}; HTTP faults need proxy: http`,
  ];
}
