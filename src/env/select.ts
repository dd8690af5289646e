import { WhatbreaksError } from '../errors.js';
import type { Scenario } from '../scenario/types.js';
import { docker } from './docker.js';
import { detectContainerRuntime, type RuntimeProbe } from './docker-runtime.js';
import { resolveDockerTarget } from './docker-target.js';
import { external } from './external.js';
import { local } from './local.js';
import { checkAddresses } from './safety.js';
import type { EnvironmentProvider } from './types.js';

/** `--env`: `local` (embedded PostgreSQL, target as child processes), `docker` (containers), or `auto`. */
export type EnvironmentChoice = 'auto' | 'local' | 'docker';
export const ENVIRONMENT_CHOICES: readonly EnvironmentChoice[] = ['auto', 'local', 'docker'];

export interface SelectOptions {
  /** Allow a target or database that is not on this machine (`--allow-remote`). Default false. */
  allowRemote?: boolean;
  /** PostgreSQL image for `docker` (default `WHATBREAKS_POSTGRES_IMAGE`, else `postgres:16`). */
  postgresImage?: string;
  /** Build arguments for the target's Dockerfile; override the scenario's `target.docker.buildArgs`. */
  buildArgs?: Readonly<Record<string, string>>;
  /**
   * True when nobody chose (`runScenario` without `env`, as `verify` runs it): the reason then does not
   * name an `--env` flag the user never gave. Default false.
   */
  defaulted?: boolean;
  /** Runtime detection (injected by tests); default testcontainers' own, 3 s timeout. */
  detect?: () => Promise<RuntimeProbe>;
}

export interface EnvironmentSelection {
  provider: EnvironmentProvider;
  /** One sentence saying why, printed and kept in `report.environment.reason`. */
  reason: string;
  /** Things the user must see before the run starts (e.g. that a remote host will be loaded). */
  warnings?: string[];
}

const LOCAL_WHAT = 'embedded PostgreSQL, target as child processes';
const LOCAL_HINT =
  'run without containers with --env local (embedded PostgreSQL, the target as a child process)';

/**
 * Choose the environment of a run.
 * - `local`: always possible.
 * - `docker`: needs a container runtime that answers and a scenario with `target.docker`.
 * - `auto`: `docker` when both hold, else `local`; the reason says which was missing.
 * @throws WhatbreaksError `ENV_UNAVAILABLE` when `docker` was asked for and cannot be had (exit 2).
 */
export async function selectEnvironment(
  scenario: Scenario,
  choice: EnvironmentChoice,
  options: SelectOptions = {},
): Promise<EnvironmentSelection> {
  if (scenario.target.url !== undefined) {
    // Already running elsewhere: nothing to start, and nothing is sent anywhere before this check.
    const addresses = [{ what: 'target.url', url: scenario.target.url }];
    if (scenario.database.url) addresses.push({ what: 'database.url', url: scenario.database.url });
    const warnings = checkAddresses(addresses, options.allowRemote ?? false);
    if (choice === 'docker') {
      throw new WhatbreaksError(
        'ENV_UNAVAILABLE',
        `--env docker: ${scenario.file} names a running target (target.url); there is nothing to put in a container`,
      );
    }
    return {
      provider: external({ databaseUrl: scenario.database.url }),
      reason: `external target at ${new URL(scenario.target.url).host} (target.url), ${scenario.database.url ? 'existing database (database.url)' : 'no database'}`,
      warnings,
    };
  }
  if (choice === 'local')
    return { provider: local, reason: options.defaulted ? LOCAL_WHAT : `--env local: ${LOCAL_WHAT}` };
  const detect = options.detect ?? detectContainerRuntime;
  // Asked for docker: the runtime is the first thing to say is missing.
  const early = choice === 'docker' ? await detect() : undefined;
  if (early && !early.found) {
    throw new WhatbreaksError(
      'ENV_UNAVAILABLE',
      `--env docker: no container runtime was found (${early.reason})`,
      `start Docker (or point DOCKER_HOST at an engine), or ${LOCAL_HINT}`,
    );
  }
  const target = resolveDockerTarget(scenario, { buildArgs: options.buildArgs });
  if (!target) {
    if (choice === 'docker') {
      throw new WhatbreaksError(
        'ENV_UNAVAILABLE',
        `--env docker: ${scenario.file} does not say how to run its target in a container`,
        `add target.docker with a dockerfile or an image (see scenarios/double-booking.yaml), or ${LOCAL_HINT}`,
      );
    }
    return {
      provider: local,
      reason: `auto: the scenario has no target.docker, so ${LOCAL_WHAT}`,
    };
  }
  const probe = early ?? (await detect());
  if (!probe.found) {
    return { provider: local, reason: `auto: no container runtime was found, so ${LOCAL_WHAT}` };
  }
  const what = target.build ? `target built from ${target.build.dockerfile}` : `target image ${target.image}`;
  return {
    provider: docker(target, { postgresImage: options.postgresImage }),
    reason: `${choice === 'auto' ? 'auto: a container runtime answered' : '--env docker'} (${probe.description}); ${what}, PostgreSQL in a container`,
  };
}
