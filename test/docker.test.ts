import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getContainerRuntimeClient } from 'testcontainers';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POSTGRES_IMAGE, RUN_LABEL, removeRun, removeRunSync } from '../src/env/docker.js';
import { detectContainerRuntime } from '../src/env/docker-runtime.js';
import { selectEnvironment } from '../src/env/select.js';
import { runScenario } from '../src/run.js';
import { loadScenario } from '../src/scenario/load.js';
import { CLI, ROOT } from './helpers.js';

/**
 * The container environment against a real Docker engine and a real PostgreSQL container. Skipped (with
 * the reason printed) when no engine answers, as in the main `npm test` on a machine without Docker; the
 * CI docker stage (`.ci/run`) runs it for real. There, where nothing can be pulled, it uses locally built
 * base images: `WHATBREAKS_POSTGRES_IMAGE` and `WHATBREAKS_NODE_IMAGE` (see ci/docker/).
 */
const probe = await detectContainerRuntime();
if (!probe.found) {
  console.warn(`test/docker.test.ts: Docker tests skipped: ${probe.reason}`);
}
/** A locally built base image (ci/docker/build-base-images.sh) when the engine has it: it cannot pull. */
async function localImage(name: string): Promise<string | undefined> {
  if (!probe.found) return undefined;
  const client = await getContainerRuntimeClient();
  return client.container.dockerode
    .getImage(name)
    .inspect()
    .then(
      () => name,
      () => undefined,
    );
}
const localPostgres = await localImage('whatbreaks/postgres:15-local');
if (localPostgres && !process.env.WHATBREAKS_POSTGRES_IMAGE)
  process.env.WHATBREAKS_POSTGRES_IMAGE = localPostgres;
const NODE_IMAGE = process.env.WHATBREAKS_NODE_IMAGE ?? (await localImage('whatbreaks/node:20-local'));
const buildArgs = NODE_IMAGE ? { NODE_IMAGE } : undefined;
const buildArgv = NODE_IMAGE ? ['--build-arg', `NODE_IMAGE=${NODE_IMAGE}`] : [];
const outDir = () =>
  join(ROOT, 'reports', `test-docker-${Date.now()}-${Math.random().toString(16).slice(2, 6)}`);
/** No Docker engine: an address where none listens (testcontainers' detection honours DOCKER_HOST). */
const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/whatbreaks-test-docker.sock' };

/** Run the real CLI with extra environment variables. */
function cli(
  args: string[],
  env: Record<string, string> = {},
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: 600_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Containers of any whatbreaks run (label `dev.whatbreaks.run`) and the networks that exist. */
async function leftovers(): Promise<{ containers: string[]; networks: string[] }> {
  const client = await getContainerRuntimeClient();
  const containers = await client.container.dockerode.listContainers({
    all: true,
    filters: { label: [RUN_LABEL] },
  });
  const networks = await client.container.dockerode.listNetworks();
  return {
    containers: containers.map((c) => `${c.Id.slice(0, 12)} ${c.Image} ${c.State}`),
    networks: networks.map((n) => n.Name).sort(),
  };
}

describe('environment selection without a container runtime', () => {
  it('--env docker exits 2 saying no container runtime was found and how to use --env local', () => {
    const r = cli(['run', 'scenarios/double-booking.yaml', '--env', 'docker', '--trials', '1'], NO_ENGINE);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/no container runtime was found/);
    expect(r.stderr).toMatch(/--env local/);
  });

  it('--env auto picks local and says so (printed and in report.environment)', () => {
    const dir = outDir();
    const r = cli(
      [
        'run',
        'scenarios/single-completion.yaml',
        '--env',
        'auto',
        '--variant',
        'fixed',
        '--trials',
        '1',
        '--out',
        dir,
      ],
      NO_ENGINE,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/environment: local — auto: no container runtime was found/);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.environment.kind).toBe('local');
    expect(report.environment.reason).toMatch(/no container runtime was found/);
  });
});

describe.skipIf(!probe.found)('docker environment (real engine)', () => {
  it('auto picks docker when a runtime answers and the scenario has target.docker', async () => {
    const sel = await selectEnvironment(loadScenario(join(ROOT, 'scenarios/double-booking.yaml')), 'auto');
    expect(sel.provider.kind).toBe('docker');
    expect(sel.reason).toMatch(/a container runtime answered/);
  });

  it('reproduces double-booking in containers (buggy fails, fixed passes) and leaves no container or network', async () => {
    const before = await leftovers();
    const scenario = loadScenario(join(ROOT, 'scenarios/double-booking.yaml'));
    const buggy = await runScenario(scenario, {
      env: 'docker',
      variant: 'buggy',
      trials: 2,
      outDir: outDir(),
      docker: { buildArgs },
    });
    expect(buggy.report.error).toBeUndefined();
    expect(buggy.report.environment.kind).toBe('docker');
    expect(buggy.report.verdict).toBe('fail');
    const log = readFileSync(join(buggy.runDir, 'logs', 'target-0.log'), 'utf8');
    expect(log).toMatch(/booking \(buggy\) listening on 0\.0\.0\.0:3000/);
    const fixed = await runScenario(scenario, {
      env: 'docker',
      variant: 'fixed',
      trials: 2,
      outDir: outDir(),
      docker: { buildArgs },
    });
    expect(fixed.report.error).toBeUndefined();
    expect(fixed.report.verdict).toBe('pass');
    const after = await leftovers();
    expect(after.containers).toEqual(before.containers);
    expect(after.networks).toEqual(before.networks);
  }, 900_000);

  it('replicas are containers: killed on purpose, then restarted on the same address', async () => {
    const scenario = loadScenario(join(ROOT, 'scenarios/double-booking.yaml'));
    const { provider } = await selectEnvironment(scenario, 'docker', { buildArgs });
    const before = await leftovers();
    const { resolveVariant } = await import('../src/scenario/variant.js');
    const env = await provider.start({
      target: resolveVariant(scenario, 'fixed'),
      runDir: outDir(),
      maxConnections: 50,
      replicas: 2,
    });
    try {
      expect(env.replicas).toHaveLength(2);
      const health = async (url: URL) => (await fetch(new URL('/health', url))).status;
      expect(await health(env.targetUrl)).toBe(200);
      const r1 = env.replicas[1]!;
      env.killReplica(1);
      expect(env.wasKilled(1)).toBe(true);
      while (!env.replicas[1]!.exit) await new Promise((r) => setTimeout(r, 100));
      expect(env.replicas[1]!.exit?.signal).toBe('SIGKILL');
      await env.restartReplica(1);
      expect(env.wasKilled(1)).toBe(false);
      expect(env.replicas[1]!.exit).toBeUndefined();
      expect(await health(r1.url)).toBe(200);
      // The database is reachable from whatbreaks through the published port.
      expect(await env.database.query('SELECT 1 AS n')).toEqual([{ n: 1 }]);
      // No Docker healthcheck keeps exec'ing into PostgreSQL while the load runs (readiness was polled
      // during the start only).
      const client = await getContainerRuntimeClient();
      const ours = await client.container.dockerode.listContainers({ filters: { label: [RUN_LABEL] } });
      const pgImage = process.env.WHATBREAKS_POSTGRES_IMAGE ?? DEFAULT_POSTGRES_IMAGE;
      const pgs = ours.filter((c) => c.Image === pgImage);
      expect(pgs).toHaveLength(1);
      const pgInfo = await client.container.dockerode.getContainer(pgs[0]!.Id).inspect();
      expect(pgInfo.State.Health).toBeUndefined();
    } finally {
      await env.stop();
    }
    expect((await leftovers()).containers).toEqual(before.containers);
  }, 900_000);

  it('sweeping a run returns only once its containers are gone, even while another removal is under way', async () => {
    const client = await getContainerRuntimeClient();
    const image = process.env.WHATBREAKS_POSTGRES_IMAGE ?? DEFAULT_POSTGRES_IMAGE;
    const runId = `test-sweep-${randomBytes(4).toString('hex')}`;
    const ofRun = async () =>
      (
        await client.container.dockerode.listContainers({
          all: true,
          filters: { label: [`${RUN_LABEL}=${runId}`] },
        })
      ).map((c) => `${c.Id.slice(0, 12)} ${c.State}`);
    // Created, not started: removing one still deletes a copy of the image's files (seconds on vfs).
    const create = () =>
      client.container.dockerode.createContainer({
        Image: image,
        Cmd: ['true'],
        Labels: { [RUN_LABEL]: runId },
      });

    // Two sweeps at once (the run's own teardown and a Ctrl-C cleanup): one finds the removal under way.
    await Promise.all([create(), create()]);
    await Promise.race([removeRun(runId, undefined), removeRun(runId, undefined)]);
    expect(await ofRun()).toEqual([]);

    // The synchronous last resort (the `docker` CLI, at process exit) while a removal is under way.
    if (spawnSync('docker', ['version'], { stdio: 'ignore' }).status === 0) {
      const c = await create();
      const removing = c.remove({ force: true, v: true }).catch(() => undefined);
      while ((await ofRun()).some((s) => s.endsWith('created'))) await sleep(5);
      removeRunSync(runId, undefined);
      expect(await ofRun()).toEqual([]);
      await removing;
    }
  }, 120_000);

  it('Ctrl-C during a docker run removes its containers and network', async () => {
    const before = await leftovers();
    const child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        'scenarios/double-booking.yaml',
        '--env',
        'docker',
        '--trials',
        '1000',
        ...buildArgv,
        '--out',
        outDir(),
      ],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (/target healthy/.test(stderr)) resolve();
      });
      child.once('exit', () => reject(new Error(`exited before the target was healthy:\n${stderr}`)));
    });
    expect((await leftovers()).containers.length).toBeGreaterThan(before.containers.length);
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    const after = await leftovers();
    expect(after.containers).toEqual(before.containers);
    expect(after.networks).toEqual(before.networks);
  }, 900_000);
});
