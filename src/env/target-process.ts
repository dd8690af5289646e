import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { WhatbreaksError } from '../errors.js';
import type { TargetLaunch } from '../scenario/variant.js';
import { unhealthyHint } from './health-hint.js';
import { spawnInOwnSession } from './own-session.js';
import { killGroup, registerCleanup } from './teardown.js';
import type { Replica } from './types.js';
import { unwatchGroup, watchGroup } from './watchdog.js';

/** Lines kept in memory per replica for error messages. */
const TAIL_LINES = 200;

/**
 * One instance of the system under test running as a child process in a session (and process group) of
 * its own (`own-session.ts`: so the whole tree it starts — `sh -c`, `npm start`, gunicorn workers — is
 * stopped together, and a Ctrl-C in the terminal reaches only whatbreaks). Its stdout and
 * stderr go to `<logsDir>/<name>.log` and to a ring buffer of the last lines.
 */
export class TargetProcess implements Replica {
  readonly url: URL;
  readonly logFile: string;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly child: ChildProcess;
  private readonly tail: string[] = [];
  private readonly log: WriteStream;
  private readonly exited: Promise<void>;
  private readonly closed: Promise<void>;
  private readonly unregister: () => void;
  private partial = '';
  /** How the port was given, for the health-failure hint. */
  private readonly portGiven: { port: number; portEnv: string; inCommand: boolean; block: string };

  private constructor(
    readonly id: number,
    launch: TargetLaunch,
    port: number,
    env: Record<string, string>,
    logsDir: string,
    readonly name: string,
  ) {
    this.url = new URL(`http://127.0.0.1:${port}`);
    mkdirSync(logsDir, { recursive: true });
    this.logFile = join(logsDir, `${name}.log`);
    this.log = createWriteStream(this.logFile, { flags: 'a' });
    const fill = (s: string) => s.replaceAll('{{port}}', String(port));
    const fullEnv = { ...process.env, ...launch.env, ...env, [launch.portEnv]: String(port) };
    const command = launch.command;
    this.portGiven = {
      port,
      portEnv: launch.portEnv,
      inCommand: [command ?? []].flat().some((c) => c.includes('{{port}}')),
      block: name.startsWith('dep-') ? `dependencies.${name.slice(4)}` : 'target',
    };
    if (command === undefined) {
      throw new WhatbreaksError('USAGE', 'this target has no command to start (it is external: target.url)');
    }
    this.child =
      typeof command === 'string'
        ? spawnInOwnSession('/bin/sh', ['-c', fill(command)], {
            cwd: launch.cwd,
            env: fullEnv,
            stdio: ['ignore', 'pipe', 'pipe'],
          })
        : spawnInOwnSession(fill(command[0]!), command.slice(1).map(fill), {
            cwd: launch.cwd,
            env: fullEnv,
            stdio: ['ignore', 'pipe', 'pipe'],
          });
    this.child.stdout?.on('data', (c: Buffer) => this.record(c));
    this.child.stderr?.on('data', (c: Buffer) => this.record(c));
    this.closed = new Promise((resolve) => this.child.once('close', () => resolve()));
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.record(Buffer.from(`[whatbreaks] could not start: ${err.message}\n`));
        this.exit ??= { code: null, signal: null };
        resolve();
      });
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
    });
    const pid = this.child.pid;
    watchGroup(this.child.pid);
    this.unregister = registerCleanup(
      `target ${name} (pid ${pid})`,
      () => this.stop(),
      () => killGroup(pid),
    );
  }

  /** Start an instance; does not wait for health (see `waitHealthy`). */
  static start(opts: {
    id: number;
    launch: TargetLaunch;
    port: number;
    env: Record<string, string>;
    logsDir: string;
    name: string;
  }): TargetProcess {
    return new TargetProcess(opts.id, opts.launch, opts.port, opts.env, opts.logsDir, opts.name);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private record(chunk: Buffer): void {
    // Output can still arrive after stop() ended the log ('exit' comes before the pipes close):
    // keep it in the tail, not in a closed file.
    if (!this.log.writableEnded) this.log.write(chunk);
    const text = this.partial + chunk.toString('utf8');
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) {
      this.tail.push(l);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
    }
  }

  lastLines(n = 20): string[] {
    const all = this.partial ? [...this.tail, this.partial] : this.tail;
    return all.slice(-n);
  }

  /**
   * Poll `health.path` until it answers 2xx.
   * @throws WhatbreaksError `TARGET_FAILED` if the process exits first, `TARGET_UNHEALTHY` at the deadline
   *   (both carry the last log lines), `INTERRUPTED` once `signal` is aborted.
   */
  async waitHealthy(health: TargetLaunch['health'], signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + health.timeoutMs;
    let lastProblem = 'no answer yet';
    let lastStatus: number | undefined;
    let lastError: string | undefined;
    while (Date.now() < deadline) {
      if (signal?.aborted) throw interruptedStart(`waiting for ${this.name} to become healthy`);
      if (this.exit) {
        throw new WhatbreaksError(
          'TARGET_FAILED',
          `target exited before it became healthy (${this.exit.signal ? `signal ${this.exit.signal}` : `exit code ${this.exit.code}`})\n${this.formatTail()}`,
          `its whole log: ${this.logFile}`,
        );
      }
      try {
        const res = await request(new URL(health.path, this.url), {
          method: 'GET',
          headersTimeout: 2_000,
          bodyTimeout: 2_000,
        });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) return;
        lastProblem = `GET ${health.path} answered ${res.statusCode}`;
        lastStatus = res.statusCode;
        lastError = undefined;
      } catch (err) {
        lastError = (err as { code?: string }).code ?? (err as Error).message;
        lastStatus = undefined;
        lastProblem = `GET ${health.path}: ${lastError}`;
      }
      await sleep(health.intervalMs, undefined, { signal }).catch(() => undefined);
    }
    if (signal?.aborted) throw interruptedStart(`waiting for ${this.name} to become healthy`);
    throw new WhatbreaksError(
      'TARGET_UNHEALTHY',
      `target did not become healthy within ${health.timeoutMs} ms (${lastProblem})\n${this.formatTail()}`,
      `${unhealthyHint({ block: this.portGiven.block, path: health.path, port: this.portGiven.port, portEnv: this.portGiven.portEnv, portInCommand: this.portGiven.inCommand, timeoutMs: health.timeoutMs, lastStatus, lastError })}; its whole log: ${this.logFile}`,
    );
  }

  private formatTail(): string {
    const lines = this.lastLines(20);
    return lines.length
      ? `last lines of ${this.logFile}:\n${lines.map((l) => `  | ${l}`).join('\n')}`
      : `(${this.logFile} is empty)`;
  }

  /** SIGTERM the process group, SIGKILL after `graceMs`; resolves once the process has exited. Idempotent. */
  async stop(graceMs = 3_000): Promise<void> {
    if (!this.exit) {
      killGroup(this.child.pid, 'SIGTERM');
      const killed = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!killed) {
        killGroup(this.child.pid, 'SIGKILL');
        await this.exited;
      }
    }
    // Children of a shell wrapper may outlive it: make sure the group is gone.
    killGroup(this.child.pid, 'SIGKILL');
    // Let the pipes drain into the log (bounded: a stray holder of the pipe must not hang teardown).
    await Promise.race([this.closed, sleep(500)]);
    await new Promise<void>((resolve) => this.log.end(resolve));
    this.unregister();
    unwatchGroup(this.child.pid);
  }

  /** SIGKILL now (a nemesis): no grace. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    killGroup(this.child.pid, signal);
  }
}

/** The error a start cut short by Ctrl-C / SIGTERM throws (`EnvironmentSpec.signal`). */
export function interruptedStart(during: string): WhatbreaksError {
  return new WhatbreaksError('INTERRUPTED', `interrupted while starting the environment (${during})`);
}
