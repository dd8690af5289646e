import { z } from 'zod';
import { positiveDurationMs } from '../timeline/duration.js';

/**
 * The scenario's `dependencies:` block: services the target calls (a payment provider, a stock
 * service), started by whatbreaks as processes, each behind an in-process fault proxy, so the timeline
 * can make them slow, fail or vanish (`src/timeline/faults/`).
 *
 * ```yaml
 * dependencies:
 *   upstream:
 *     command: node ../dist/targets/upstream/server.js
 *     env: { LATENCY_MS: 500 }
 *     proxy: http           # http (status/abort/delay faults) | tcp (Toxiproxy toxics) | none
 *     urlEnv: UPSTREAM_URL  # the target gets http://<proxy> in this variable (default <NAME>_URL)
 * ```
 *
 * ```
 *   target ──► UPSTREAM_URL = fault proxy "upstream" ──► dependency process (own port, own log)
 * ```
 *
 * Names are letters, digits and dashes; a name is how faults refer to the proxy (`proxy: upstream`).
 * `postgres` is reserved for the database's proxy (`database.proxy: true`).
 */
const envValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const dependencySchema = z.strictObject({
  command: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).meta({
    description: 'String: run through `/bin/sh -c`; array: run directly. `{{port}}` is replaced by its port.',
  }),
  cwd: z.string().default('.').meta({ description: 'Working directory, relative to the scenario file.' }),
  env: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), envValue)
    .default({})
    .meta({ description: 'Environment variables for it.', examples: [{ LATENCY_MS: 2500 }] }),
  portEnv: z
    .string()
    .default('PORT')
    .meta({ description: 'Environment variable that carries the port it must listen on.' }),
  health: z
    .strictObject({
      path: z
        .string()
        .startsWith('/', 'must start with /')
        .default('/health')
        .meta({ description: 'Path polled until it answers 2xx.' }),
      timeoutMs: positiveDurationMs.default(30_000).meta({ description: 'Give up after this long, ms.' }),
      intervalMs: positiveDurationMs.default(100).meta({ description: 'Pause between polls, ms.' }),
    })
    .prefault({}),
  proxy: z
    .union([z.boolean(), z.enum(['http', 'tcp', 'none'])])
    .transform((p) => (p === true ? 'http' : p === false ? 'none' : p))
    .default('http')
    .meta({
      description:
        'What stands between the target and it: `http` — the HTTP fault proxy (`src/faults/http-faults.ts`: status, abort, delay; records every request), `tcp` — the TCP fault proxy with Toxiproxy toxics (`src/faults/proxy.ts`), `none` — the target talks to it directly. `true` means `http`.',
    }),
  urlEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
    .optional()
    .meta({
      description:
        "Variable the target gets the dependency's URL in (`http://127.0.0.1:<proxy port>`); default `<NAME>_URL`.",
    }),
  recordHeaders: z
    .array(z.string().min(1))
    .default(['x-client-id', 'x-attempt', 'x-request-id'])
    .meta({ description: 'Request headers the HTTP proxy records with each arrival (any case).' }),
});
export type DependencyConfig = z.output<typeof dependencySchema>;

export const dependenciesSchema = z
  .record(
    z
      .string()
      .regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes')
      .refine((n) => n !== 'postgres', {
        message: "'postgres' is the database's proxy (database.proxy: true)",
      })
      .meta({ jsonSchema: { not: { const: 'postgres' } } }),
    dependencySchema,
  )
  .default({});

/** The variable carrying dependency `name`'s URL: `urlEnv`, else `UPSTREAM_URL` for `upstream`. */
export function urlEnvOf(name: string, cfg: Pick<DependencyConfig, 'urlEnv'>): string {
  return cfg.urlEnv ?? `${name.toUpperCase().replaceAll('-', '_')}_URL`;
}
