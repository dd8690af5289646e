import { z } from 'zod';
import { dependenciesSchema } from '../env/dependencies-schema.js';
import { dockerTargetSchema } from '../env/docker-target.js';
import { invariantTypes } from '../invariants/registry.js';
import { loadTypes } from '../load/registry.js';
import { durationMs, positiveDurationMs } from '../timeline/duration.js';
import { faultTypes } from '../timeline/registry.js';
import { generateSchema } from './seed.js';

/**
 * The scenario file format: one zod schema is the single source of truth for validation and for the
 * TypeScript types (`ScenarioInput` for `defineScenario`, `ScenarioConfig` once parsed). Executor and
 * invariant blocks come from their registries, so adding a type there adds it here.
 */

const envValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const envRecord = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'),
  envValue,
);
const command = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** A variant overrides parts of the target: usually its environment (`VARIANT: fixed`), sometimes the command or folder. */
export const variantSchema = z.strictObject({
  description: z.string().optional().meta({ description: 'What this variant is, for `whatbreaks list`.' }),
  env: envRecord.default({}).meta({
    description: "Environment variables added to the target's for this variant.",
    examples: [{ VARIANT: 'fixed' }],
  }),
  command: command.optional().meta({ description: "Replaces the target's `command` for this variant." }),
  cwd: z.string().optional().meta({ description: 'Working directory, relative to the scenario file.' }),
});

export const healthSchema = z.strictObject({
  path: z
    .string()
    .startsWith('/', 'must start with /')
    .default('/health')
    .meta({ description: 'Path polled until it answers 2xx.' }),
  timeoutMs: positiveDurationMs
    .default(30_000)
    .meta({ description: "Give up (exit 2, with the target's last log lines) after this long, ms." }),
  intervalMs: positiveDurationMs.default(100).meta({ description: 'Pause between polls, ms.' }),
});

export const targetSchema = z.strictObject({
  command: command.optional().meta({
    description:
      "How to start one instance of the system under test: a string runs through `/bin/sh -c`, an array runs directly. `{{port}}` is replaced by the instance's port. Give this or `url`.",
  }),
  url: z
    .url({ protocol: /^https?$/ })
    .optional()
    .meta({
      examples: ['http://127.0.0.1:8080'],
      description:
        'The base URL of a target that is already running (not started by whatbreaks), e.g. a staging service. Anything but loopback needs `--allow-remote`. Give this or `command`.',
    }),
  cwd: z.string().default('.').meta({ description: 'Working directory, relative to the scenario file.' }),
  env: envRecord.default({}).meta({
    description: 'Environment variables for every replica, on top of the documented ones (below).',
    examples: [{ POOL_MIN: 5 }],
  }),
  portEnv: z
    .string()
    .default('PORT')
    .meta({ description: 'Environment variable that carries the port the instance must listen on.' }),
  health: healthSchema.prefault({}).meta({ description: 'How whatbreaks knows a replica is up (below).' }),
  variants: z
    .record(z.string().regex(/^[\w.-]+$/, 'letters, digits, dot, dash, underscore'), variantSchema)
    .default({})
    .meta({
      description:
        'Named versions of the target (`buggy`, `fixed`), chosen with `--variant`; each may change `env`, `command` or `cwd`. Without variants the target runs as written, and reports name that variant `default`.',
      examples: [{ buggy: { env: { VARIANT: 'buggy' } }, fixed: { env: { VARIANT: 'fixed' } } }],
    }),
  defaultVariant: z
    .string()
    .optional()
    .meta({
      examples: ['fixed'],
      description: 'Variant used when `--variant` is not given; default the first one listed.',
    }),
  restart: z.enum(['never', 'per-trial']).default('never').meta({
    description:
      '`per-trial`: stop every replica and start it again (waiting for its health path) before each trial after the first, for a target that keeps state in memory (a cache, a counter, a lock held by a dead request) which would otherwise carry over from one trial into the next. Costs one stop, start and health check per replica per trial (a minimal Node target: about 0.8 s per trial, measured on a loaded 2-core machine). `never`: the replicas run for the whole run; only the database is reset between trials.',
  }),
  replicas: z.int().min(1).max(32).default(1).meta({
    description:
      'Instances to start (`INSTANCE_ID` 0..N-1, own port, own log `logs/target-<i>.log`). More than one puts the built-in load balancer in front of them; the load goes to it.',
  }),
  startStaggerMs: durationMs
    .default(0)
    .meta({ description: 'Pause between starting one replica and the next: `2s`, `500ms` or ms.' }),
  loadBalancer: z
    .strictObject({
      policy: z
        .enum(['round-robin', 'random', 'sticky'])
        .default('round-robin')
        .meta({ description: 'Which replica gets the next request (`sticky`: by client).' }),
      stickyHeader: z
        .string()
        .optional()
        .meta({
          examples: ['x-client-id'],
          description: 'Header that pins a client to a replica under `sticky` (default: the client address).',
        }),
    })
    .prefault({})
    .meta({ description: 'How the load balancer spreads requests over replicas (with `replicas` > 1).' }),
  memoryLimitMiB: z.number().positive().optional().meta({
    description:
      "Enforced memory limit per replica, MiB (like `docker run -m`): a replica whose process tree's RSS exceeds it is SIGKILLed, as the OOM killer would. Enforced by the RSS sampler (`observe/rss-sampler.ts` explains why not a cgroup). Absent: no limit, only measurement.",
  }),
  docker: dockerTargetSchema.optional().meta({
    description:
      'How to run the target as a container (`--env docker`, or `auto` when a container runtime answers): `{ dockerfile, context?, buildArgs?, port? }` or `{ image, port? }` (`src/env/docker-target.ts`).',
  }),
});

const sqlFiles = z
  .union([z.string().min(1), z.array(z.string().min(1))])
  .transform((v) => (Array.isArray(v) ? v : [v]));

export const databaseSchema = z.strictObject({
  schema: sqlFiles.default([]).meta({
    description:
      'SQL file(s) creating the schema, relative to the scenario file; applied to a fresh database every trial.',
  }),
  seed: sqlFiles.default([]).meta({ description: 'SQL file(s) with the data each trial starts from.' }),
  setup: z
    .string()
    .optional()
    .meta({
      examples: ['INSERT INTO trucks (id, capacity_kg) VALUES (2, 500)'],
      description:
        'SQL written inline, run after the schema and seed files (if any) before every trial: for a few rows, no seed file is needed.',
    }),
  maxConnections: z.int().min(10).max(10_000).optional().meta({
    description: 'PostgreSQL `max_connections`; default sized for the load (2 × burst + 20, at least 100).',
  }),
  fsync: z.boolean().default(true).meta({
    description:
      'PostgreSQL `fsync` (default true: commits flush the WAL as in production, so a commit inside a race window costs what it costs there). `false` is faster — double-booking\'s 10 buggy trials took 19.5 s instead of 59.4 s — at the price of narrower race windows (bench/RESULTS.md, "Session 2").',
  }),
  generate: generateSchema.optional().meta({
    description:
      'Tables of millions of rows generated once per run, read-only during trials (`scenario/seed.ts`).',
  }),
  proxy: z
    .union([z.boolean(), z.strictObject({ protocol: z.enum(['tcp', 'postgres']).default('tcp') })])
    .default(false)
    .meta({
      description:
        "Put a TCP fault proxy named `postgres` between the target and PostgreSQL (the target's `DATABASE_URL` points at it; whatbreaks connects directly), so a `toxic` fault can slow the database. `true` is `{ protocol: tcp }`. `{ protocol: postgres }` puts the PostgreSQL protocol proxy in front of it (`src/pgwire/`): it reads the wire protocol and sees every statement as a step (and can hold steps for a scheduler); the TCP proxy and its toxics stay behind it: target → protocol proxy → TCP proxy `postgres` → PostgreSQL.",
    }),
  url: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// connection string')
    .optional()
    .meta({
      examples: ['postgres://app:secret@127.0.0.1:5432/app'],
      description:
        'Connection string of an existing database (with an external `target.url`): whatbreaks never drops or re-creates anything in it — only `setup` runs before each trial — and `sql` invariants query it.',
    }),
});

const loadConfigs = Object.values(loadTypes).map((t) => t.config);
const invariantConfigs = Object.values(invariantTypes).map((t) => t.config);
const faultConfigs = Object.values(faultTypes).map((t) => t.config);

export const scenarioSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[\w.-]+$/, 'letters, digits, dot, dash, underscore')
    .optional()
    .meta({ description: 'Short name used in reports; default the file name.' }),
  description: z
    .string()
    .optional()
    .meta({ description: 'What the scenario reproduces, for `whatbreaks list`.' }),
  target: targetSchema.meta({ description: 'The system under test and how to start it (below).' }),
  database: databaseSchema
    .prefault({})
    .meta({ description: 'The PostgreSQL database each trial starts from (below).' }),
  dependencies: dependenciesSchema.meta({
    description:
      'Services the target calls, started by whatbreaks behind fault proxies (`src/env/dependencies-schema.ts`).',
  }),
  load: z
    .discriminatedUnion(
      'type',
      loadConfigs as [(typeof loadConfigs)[number], ...(typeof loadConfigs)[number][]],
    )
    .meta({ description: 'What is sent at the target in each trial; `type` chooses the load type (below).' }),
  invariants: z
    .array(
      z.discriminatedUnion(
        'type',
        invariantConfigs as [(typeof invariantConfigs)[number], ...(typeof invariantConfigs)[number][]],
      ),
    )
    .min(1, 'a scenario needs at least one invariant')
    .meta({ description: 'What must hold after each trial; at least one (below).' }),
  faults: z
    .array(
      z.discriminatedUnion(
        'type',
        faultConfigs as [(typeof faultConfigs)[number], ...(typeof faultConfigs)[number][]],
      ),
    )
    .default([])
    .meta({
      description:
        'The fault timeline: `{ type, at, for?, ... }` applied while the load runs, `at` relative to the start of the load (`src/timeline/`).',
    }),
  trials: z
    .int()
    .min(1)
    .max(100_000)
    .default(1)
    .meta({ description: 'Trials per run; each starts from a fresh database.' }),
});

/** What a scenario author writes (defaults not yet applied). */
export type ScenarioInput = z.input<typeof scenarioSchema>;
/** A validated scenario block, defaults applied, paths not yet resolved. */
export type ScenarioConfig = z.output<typeof scenarioSchema>;
