import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  GenericContainer,
  getContainerRuntimeClient,
  type StartedNetwork,
  type StartedTestContainer,
  Wait,
} from 'testcontainers';
import { WhatbreaksError } from '../errors.js';
import type { TargetLaunch } from '../scenario/variant.js';
import type { Replica } from './types.js';

/** Lines kept in memory per replica for error messages. */
const TAIL_LINES = 200;

export interface DockerReplicaOptions {
  /** 0-based replica number (`INSTANCE_ID`). */
  id: number;
  image: string;
  network: StartedNetwork;
  /** Environment of the container (variant env, `DATABASE_URL`, `PORT`, …). */
  env: Record<string, string>;
  /** Port the target listens on inside the container. */
  containerPort: number;
  /**
   * Host port it is published on. Fixed (not Docker's random one) so a restarted container comes back
   * at the same address and the load balancer's upstreams stay valid.
   */
  hostPort: number;
  health: TargetLaunch['health'];
  /** cgroup memory limit of the container, MiB; the kernel OOM-kills the target past it. */
  memoryLimitMiB?: number;
  /** Labels that let the run's sweep find the container (`dev.whatbreaks.run`). */
  labels: Record<string, string>;
  logsDir: string;
  /** Log file name without extension: `target-<id>` → `<logsDir>/target-<id>.log`. */
  name: string;
}

/**
 * One instance of the target as a container on the run's network. Its output goes to
 * `<logsDir>/<name>.log` and to a ring buffer of the last lines; `exit` is filled in when the container
 * stops (from `docker wait` + `inspect`: exit code, the signal behind a 128+n code, and `oomKilled`).
 * `pid` is the container's main process as the host sees it (so the RSS sampler can read `/proc` when
 * the engine runs on this machine).
 */
export class DockerReplica implements Replica {
  readonly id: number;
  readonly url: URL;
  readonly logFile: string;
  pid: number | undefined;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** True when the last exit was the kernel's OOM killer enforcing the container's memory limit. */
  oomKilled = false;
  private container: StartedTestContainer | undefined;
  private readonly log: WriteStream;
  private readonly tail: string[] = [];
  private partial = '';
  private closed = false;
  /** Bumped on every (re)start and stop, so a stale `docker wait` does not overwrite a newer state. */
  private generation = 0;

  private constructor(private readonly opts: DockerReplicaOptions) {
    this.id = opts.id;
    this.url = new URL(`http://127.0.0.1:${opts.hostPort}`);
    mkdirSync(opts.logsDir, { recursive: true });
    this.logFile = join(opts.logsDir, `${opts.name}.log`);
    this.log = createWriteStream(this.logFile, { flags: 'a' });
  }

  /**
   * Create and start the container; resolves once `GET health.path` answers 2xx through the published port.
   * @throws WhatbreaksError `TARGET_FAILED` (exited first) or `TARGET_UNHEALTHY` (deadline), with the
   *   last log lines. The container may exist on failure: the environment's sweep removes it.
   */
  static async start(opts: DockerReplicaOptions): Promise<DockerReplica> {
    const replica = new DockerReplica(opts);
    let container = new GenericContainer(opts.image)
      .withNetwork(opts.network)
      .withNetworkAliases(opts.name)
      .withEnvironment(opts.env)
      .withLabels(opts.labels)
      .withExposedPorts({ container: opts.containerPort, host: opts.hostPort })
      .withWaitStrategy(
        Wait.forHttp(opts.health.path, opts.containerPort).forStatusCodeMatching((s) => s >= 200 && s < 300),
      )
      .withStartupTimeout(opts.health.timeoutMs)
      .withLogConsumer((stream) => replica.attach(stream));
    if (opts.memoryLimitMiB !== undefined) {
      // testcontainers takes GB; the engine gets bytes. No swap above it: memory + swap = memory.
      container = container.withResourcesQuota({ memory: opts.memoryLimitMiB / 1024 });
    }
    try {
      replica.container = await container.start();
    } catch (err) {
      throw replica.startError(err);
    }
    await replica.afterStart();
    return replica;
  }

  /** Container id (for `docker` commands by hand). */
  get containerId(): string | undefined {
    return this.container?.getId();
  }

  lastLines(n = 20): string[] {
    const all = this.partial ? [...this.tail, this.partial] : this.tail;
    return all.slice(-n);
  }

  /** Send `signal` to the container's main process (`docker kill --signal`); ignores a container that is not running. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = await this.dockerode();
    if (!c) return;
    await c.kill({ signal }).catch(() => undefined);
  }

  /**
   * Stop the container (`signal` first if given, then `docker restart` with `graceMs` before SIGKILL) and
   * start it again on the same network alias and host port; resolves once it is healthy again.
   * @throws WhatbreaksError `TARGET_FAILED` / `TARGET_UNHEALTHY` when it does not come back.
   */
  async restart(opts: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<void> {
    if (!this.container) throw new Error('restart before start');
    if (opts.signal && !this.exit) await this.kill(opts.signal);
    this.generation++;
    this.exit = undefined;
    this.oomKilled = false;
    try {
      await this.container.restart({ timeout: Math.ceil((opts.graceMs ?? 3_000) / 1000) });
    } catch (err) {
      throw this.startError(err);
    }
    const client = await getContainerRuntimeClient();
    const c = client.container.getById(this.container.getId());
    const info = await client.container.inspect(c);
    // The old log stream ended with the old process: follow the new one from its start.
    this.attach(
      await client.container.logs(c, { since: Math.floor(new Date(info.State.StartedAt).getTime() / 1000) }),
    );
    await this.afterStart();
  }

  /** Stop and remove the container (SIGTERM, SIGKILL after `graceMs`); idempotent. */
  async stop(graceMs = 3_000): Promise<void> {
    this.generation++;
    const container = this.container;
    this.container = undefined;
    if (container) {
      await container.stop({ timeout: Math.ceil(graceMs / 1000), remove: true, removeVolumes: true });
    }
    if (!this.closed) {
      this.closed = true;
      await new Promise<void>((resolve) => this.log.end(resolve));
    }
  }

  private async afterStart(): Promise<void> {
    const c = await this.dockerode();
    if (!c) return;
    const info = await c.inspect();
    this.pid = info.State.Pid || undefined;
    const generation = ++this.generation;
    // `docker wait` resolves when the container stops, for whatever reason.
    c.wait().then(
      async (res: { StatusCode: number }) => {
        if (generation !== this.generation) return;
        const state = await c.inspect().then(
          (i) => i.State,
          () => undefined,
        );
        if (generation !== this.generation) return;
        this.oomKilled = state?.OOMKilled ?? false;
        const code = state?.ExitCode ?? res.StatusCode;
        this.exit = { code, signal: signalOf(code) };
      },
      () => {
        if (generation === this.generation) this.exit ??= { code: null, signal: null };
      },
    );
  }

  private async dockerode() {
    if (!this.container) return undefined;
    const client = await getContainerRuntimeClient();
    return client.container.getById(this.container.getId());
  }

  private attach(stream: Readable): void {
    stream.on('data', (chunk: Buffer | string) => this.record(String(chunk)));
    stream.on('error', () => undefined);
  }

  private record(text: string): void {
    if (!this.closed) this.log.write(text);
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) {
      this.tail.push(l);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
    }
  }

  private startError(err: unknown): WhatbreaksError {
    const message = (err as Error).message ?? String(err);
    const exited = /exited|not running|died/i.test(message);
    const lines = this.lastLines(20);
    const tail = lines.length
      ? `last lines of ${this.logFile}:\n${lines.map((l) => `  | ${l}`).join('\n')}`
      : `(${this.logFile} is empty)`;
    return exited
      ? new WhatbreaksError(
          'TARGET_FAILED',
          `target container ${this.opts.name} exited before it became healthy (${message.split('\n')[0]})\n${tail}`,
          `its whole log: ${this.logFile}`,
          { cause: err },
        )
      : new WhatbreaksError(
          'TARGET_UNHEALTHY',
          `target container ${this.opts.name} (image ${this.opts.image}) did not answer GET ${this.opts.health.path} with 2xx within ${this.opts.health.timeoutMs} ms: ${message.split('\n')[0]}\n${tail}`,
          `its whole log: ${this.logFile}; the target must listen on 0.0.0.0:${this.opts.containerPort} inside the container (HOST=0.0.0.0 is set); raise target.health.timeoutMs if it is just slow to start`,
          { cause: err },
        );
  }
}

/** The signal behind a container exit code 128 + n (137 → SIGKILL, 143 → SIGTERM), else null. */
export function signalOf(code: number): NodeJS.Signals | null {
  if (code <= 128) return null;
  const n = code - 128;
  const entry = Object.entries(constants.signals).find(([, v]) => v === n);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}
