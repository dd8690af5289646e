import { z } from 'zod';
import { dependenciesSchema } from '../env/dependencies-schema.js';
import { dockerTargetSchema } from '../env/docker-target.js';
import { invariantTypes } from '../invariants/registry.js';
import { loadTypes } from '../load/registry.js';
import { durationMs } from '../timeline/duration.js';
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
  description: z.string().optional(),
  env: envRecord.default({}),
  command: command.optional(),
  /** Working directory, relative to the scenario file. */
  cwd: z.string().optional(),
});

export const healthSchema = z.strictObject({
  /** Path polled until it answers 2xx. */
  path: z.string().startsWith('/', 'must start with /').default('/health'),
  /** Give up (exit 2, with the target's last log lines) after this long, ms. */
  timeoutMs: z.int().positive().default(30_000),
  /** Pause between polls, ms. */
  intervalMs: z.int().positive().default(100),
});

export const targetSchema = z.strictObject({
  /**
   * How to start one instance of the system under test: a string runs through `/bin/sh -c`, an array
   * runs directly. `{{port}}` is replaced by the instance's port. Give this or `url`.
   */
  command: command.optional(),
  /**
   * The base URL of a target that is already running (not started by whatbreaks), e.g. a staging
   * service. Anything but loopback needs `--allow-remote`. Give this or `command`.
   */
  url: z.url({ protocol: /^https?$/ }).optional(),
  /** Working directory, relative to the scenario file. */
  cwd: z.string().default('.'),
  env: envRecord.default({}),
  /** Environment variable that carries the port the instance must listen on. */
  portEnv: z.string().default('PORT'),
  health: healthSchema.prefault({}),
  variants: z
    .record(z.string().regex(/^[\w.-]+$/, 'letters, digits, dot, dash, underscore'), variantSchema)
    .default({}),
  /** Variant used when `--variant` is not given; default the first one listed. */
  defaultVariant: z.string().optional(),
  /**
   * Instances to start (`INSTANCE_ID` 0..N-1, own port, own log `logs/target-<i>.log`). More than one
   * puts the built-in load balancer in front of them; the load goes to it.
   */
  replicas: z.int().min(1).max(32).default(1),
  /** Pause between starting one replica and the next: `2s`, `500ms` or ms. */
  startStaggerMs: durationMs.default(0),
  /** How the load balancer spreads requests over replicas (with `replicas` > 1). */
  loadBalancer: z
    .strictObject({
      policy: z.enum(['round-robin', 'random', 'sticky']).default('round-robin'),
      /** Header that pins a client to a replica under `sticky` (default: the client address). */
      stickyHeader: z.string().optional(),
    })
    .prefault({}),
  /**
   * Enforced memory limit per replica, MiB (like `docker run -m`): a replica whose process tree's RSS
   * exceeds it is SIGKILLed, as the OOM killer would. Enforced by the RSS sampler
   * (`observe/rss-sampler.ts` explains why not a cgroup). Absent: no limit, only measurement.
   */
  memoryLimitMiB: z.number().positive().optional(),
  /**
   * How to run the target as a container (`--env docker`, or `auto` when a container runtime answers):
   * `{ dockerfile, context?, buildArgs?, port? }` or `{ image, port? }` (`src/env/docker-target.ts`).
   */
  docker: dockerTargetSchema.optional(),
});

const sqlFiles = z
  .union([z.string().min(1), z.array(z.string().min(1))])
  .transform((v) => (Array.isArray(v) ? v : [v]));

export const databaseSchema = z.strictObject({
  /** SQL file(s) creating the schema, relative to the scenario file; applied to a fresh database every trial. */
  schema: sqlFiles.default([]),
  /** SQL file(s) with the data each trial starts from. */
  seed: sqlFiles.default([]),
  /** Extra SQL run after the seed files, inline. */
  setup: z.string().optional(),
  /** PostgreSQL `max_connections`; default sized for the load (2 × burst + 20, at least 100). */
  maxConnections: z.int().min(10).max(10_000).optional(),
  /**
   * PostgreSQL `fsync` (default true: commits flush the WAL as in production, so a commit inside a race
   * window costs what it costs there). `false` is faster — double-booking's 10 buggy trials took 19.5 s
   * instead of 59.4 s — at the price of narrower race windows (bench/RESULTS.md, "Session 2").
   */
  fsync: z.boolean().default(true),
  /** Tables of millions of rows generated once per run, read-only during trials (`scenario/seed.ts`). */
  generate: generateSchema.optional(),
  /**
   * Put a TCP fault proxy named `postgres` between the target and PostgreSQL (the target's
   * `DATABASE_URL` points at it; whatbreaks connects directly), so a `toxic` fault can slow the database.
   * `true` is `{ protocol: tcp }`. `{ protocol: postgres }` puts the PostgreSQL protocol proxy in front
   * of it (`src/pgwire/`): it reads the wire protocol and sees every statement as a step (and can hold
   * steps for a scheduler); the TCP proxy and its toxics stay behind it:
   * target → protocol proxy → TCP proxy `postgres` → PostgreSQL.
   */
  proxy: z
    .union([z.boolean(), z.strictObject({ protocol: z.enum(['tcp', 'postgres']).default('tcp') })])
    .default(false),
  /**
   * Connection string of an existing database (with an external `target.url`): whatbreaks never drops
   * or re-creates anything in it — only `setup` runs before each trial — and `sql` invariants query it.
   */
  url: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// connection string')
    .optional(),
});

const loadConfigs = Object.values(loadTypes).map((t) => t.config);
const invariantConfigs = Object.values(invariantTypes).map((t) => t.config);
const faultConfigs = Object.values(faultTypes).map((t) => t.config);

export const scenarioSchema = z.strictObject({
  /** Short name used in reports; default the file name. */
  name: z
    .string()
    .regex(/^[\w.-]+$/, 'letters, digits, dot, dash, underscore')
    .optional(),
  description: z.string().optional(),
  target: targetSchema,
  database: databaseSchema.prefault({}),
  /** Services the target calls, started by whatbreaks behind fault proxies (`src/env/dependencies-schema.ts`). */
  dependencies: dependenciesSchema,
  load: z.discriminatedUnion(
    'type',
    loadConfigs as [(typeof loadConfigs)[number], ...(typeof loadConfigs)[number][]],
  ),
  invariants: z
    .array(
      z.discriminatedUnion(
        'type',
        invariantConfigs as [(typeof invariantConfigs)[number], ...(typeof invariantConfigs)[number][]],
      ),
    )
    .min(1, 'a scenario needs at least one invariant'),
  /**
   * The fault timeline: `{ type, at, for?, ... }` applied while the load runs, `at` relative to the start
   * of the load (`src/timeline/`).
   */
  faults: z
    .array(
      z.discriminatedUnion(
        'type',
        faultConfigs as [(typeof faultConfigs)[number], ...(typeof faultConfigs)[number][]],
      ),
    )
    .default([]),
  /** Trials per run; each starts from a fresh database. */
  trials: z.int().min(1).max(100_000).default(1),
});

/** What a scenario author writes (defaults not yet applied). */
export type ScenarioInput = z.input<typeof scenarioSchema>;
/** A validated scenario block, defaults applied, paths not yet resolved. */
export type ScenarioConfig = z.output<typeof scenarioSchema>;
