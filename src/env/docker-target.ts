import { existsSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { WhatbreaksError } from '../errors.js';
import type { Scenario } from '../scenario/types.js';

const buildArgs = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a build argument name'),
  z.union([z.string(), z.number(), z.boolean()]).transform(String),
);

/**
 * `target.docker` in a scenario: how to run the target as a container (`--env docker`, or `auto` when a
 * container runtime answers). Either an `image` to run as is, or a `dockerfile` to build; the variant's
 * `env` (e.g. `VARIANT: fixed`) and `DATABASE_URL` are passed to the container either way.
 *
 * ```yaml
 * target:
 *   docker: { dockerfile: ../targets/booking/Dockerfile, context: .., port: 3000 }
 * ```
 */
export const dockerTargetSchema = z
  .strictObject({
    image: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Image to run (pulled if not present), e.g. `ghcr.io/acme/booking:1.4`.' }),
    dockerfile: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Dockerfile to build the image from, relative to the scenario file.' }),
    context: z.string().min(1).optional().meta({
      description: "Build context, relative to the scenario file; default the Dockerfile's folder.",
    }),
    buildArgs: buildArgs.default({}).meta({
      description:
        '`ARG`s of the Dockerfile, e.g. `{ NODE_IMAGE: node:22-slim }` (`--build-arg` overrides them).',
    }),
    port: z.int().min(1).max(65_535).default(3000).meta({
      description:
        'Port the target listens on inside the container (it gets it in `target.portEnv`, default `PORT`).',
    }),
  })
  .refine((d) => (d.image === undefined) !== (d.dockerfile === undefined), {
    message: 'give either `image` or `dockerfile` (not both)',
  })
  .meta({ jsonSchema: { oneOf: [{ required: ['image'] }, { required: ['dockerfile'] }] } });

export type DockerTargetConfig = z.output<typeof dockerTargetSchema>;

/** `target.docker` resolved: absolute paths, CLI build arguments merged in. */
export interface DockerTarget {
  /** The image to run; for a build, the tag the built image gets. */
  image: string;
  /** Present when the image is built from a Dockerfile. */
  build?: {
    /** Absolute build context. */
    context: string;
    /** Dockerfile path relative to `context` (POSIX separators, as the Docker API wants it). */
    dockerfile: string;
    buildArgs: Readonly<Record<string, string>>;
  };
  /** Port the target listens on inside the container. */
  port: number;
  /** Enforced memory limit of each replica container, MiB (`target.memoryLimitMiB`): a cgroup limit. */
  memoryLimitMiB?: number;
}

/**
 * The scenario's `target.docker`, resolved against the scenario's folder; `undefined` when the scenario
 * does not say how to run its target in a container.
 * @throws WhatbreaksError `SCENARIO_INVALID` when the Dockerfile or the context does not exist.
 */
export function resolveDockerTarget(
  scenario: Scenario,
  overrides: { buildArgs?: Readonly<Record<string, string>> } = {},
): DockerTarget | undefined {
  const cfg = scenario.target.docker;
  if (!cfg) return undefined;
  const memoryLimitMiB = scenario.target.memoryLimitMiB;
  if (cfg.image) return { image: cfg.image, port: cfg.port, memoryLimitMiB };
  const dockerfile = resolve(scenario.dir, cfg.dockerfile!);
  const context = resolve(scenario.dir, cfg.context ?? dirname(cfg.dockerfile!));
  const problems: string[] = [];
  if (!existsSync(dockerfile) || !statSync(dockerfile).isFile()) {
    problems.push(`target.docker.dockerfile: file not found: ${cfg.dockerfile} (resolved to ${dockerfile})`);
  }
  if (!existsSync(context) || !statSync(context).isDirectory()) {
    problems.push(`target.docker.context: folder not found: ${cfg.context} (resolved to ${context})`);
  }
  const inContext = relative(context, dockerfile);
  if (problems.length === 0 && (inContext.startsWith('..') || inContext === '')) {
    problems.push(`target.docker.dockerfile: ${dockerfile} is not inside the build context ${context}`);
  }
  if (problems.length)
    throw new WhatbreaksError('SCENARIO_INVALID', `${scenario.file}: ${problems.join('\n')}`);
  return {
    image: `whatbreaks-target-${scenario.name.toLowerCase().replace(/[^a-z0-9._-]/g, '-')}:latest`,
    build: {
      context,
      dockerfile: inContext.split(sep).join('/'),
      buildArgs: { ...cfg.buildArgs, ...overrides.buildArgs },
    },
    port: cfg.port,
    memoryLimitMiB,
  };
}
