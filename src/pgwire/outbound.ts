/**
 * The client's bytes on their way to the server, in the client's order: plain bytes (startup,
 * authentication, COPY data, Terminate), steps (which the gate may hold), and the client's end.
 *
 * ```
 *  [bytes][step][bytes][step][end] ─► server      everything before the first held step is written;
 *                 ▲ held: the queue stops here      what is behind it waits, in order
 * ```
 *
 * Flow control: while the server socket pushes back, or more than `HIGH_WATER_BYTES` wait here (held
 * steps and what queued behind them), the client is not read, so TCP pushes back on the client as it
 * would on a direct connection. Once the server is gone, steps are dropped instead of written.
 */
import type { Socket } from 'node:net';
import type { GateDecision } from './gate.js';
import type { TrackedStep } from './responses.js';
import type { Step } from './step.js';

/** Client bytes waiting in the proxy above which it stops reading the client. */
export const HIGH_WATER_BYTES = 1024 * 1024;

export type Outgoing =
  | { kind: 'step'; run: TrackedStep; chunks: Buffer[]; codes: number[] }
  /** `copyEnd`: the type byte when the bytes are a CopyDone or CopyFail. */
  | { kind: 'bytes'; chunks: Buffer[]; copyEnd?: number }
  | { kind: 'end' };

export type OutgoingStep = Extract<Outgoing, { kind: 'step' }>;

export interface OutboundHooks {
  /** Asked once per step, when it is first in line. */
  decide(step: Step): GateDecision;
  held(step: Step): void;
  /** A step's bytes were written. */
  sent(item: OutgoingStep): void;
  /** A step could not be written: the server is gone. */
  dropped(step: Step): void;
  /** A CopyDone or CopyFail was written. */
  copyEnded(code: number): void;
}

export class Outbound {
  #queue: Outgoing[] = [];
  #queuedBytes = 0;
  /** Steps the gate let through or `release` sent, waiting for their turn. */
  #admitted = new WeakSet<Step>();
  #serverBlocked = false;
  #clientPaused = false;
  #serverGone = false;

  constructor(
    private readonly client: Socket,
    private readonly server: Socket,
    private readonly hooks: OutboundHooks,
  ) {
    server.on('drain', () => {
      this.#serverBlocked = false;
      this.#updateFlow();
    });
  }

  get empty(): boolean {
    return this.#queue.length === 0;
  }

  /** The step held first in line, if any (at most one per connection: steps go in order). */
  get held(): Step | undefined {
    const s = this.#queue[0];
    return s?.kind === 'step' && s.run.step.state === 'held' ? s.run.step : undefined;
  }

  push(item: Outgoing): void {
    if (item.kind !== 'end') for (const c of item.chunks) this.#queuedBytes += c.length;
    this.#queue.push(item);
  }

  /** Let the held `step` go. @throws Error when it is not the step held first in line. */
  release(step: Step): void {
    if (this.held !== step) throw new Error(`step ${step.id} is not held (state ${step.state})`);
    step.state = 'queued';
    this.#admitted.add(step);
    this.pump();
  }

  /** Write what may go, in order, up to the first held step. */
  pump(): void {
    this.server.cork();
    try {
      while (this.#queue.length) {
        const item = this.#queue[0]!;
        if (item.kind === 'step') {
          const step = item.run.step;
          if (step.state === 'held') break;
          if (!this.#serverGone && !this.#admitted.has(step) && this.hooks.decide(step) === 'hold') {
            step.state = 'held';
            this.hooks.held(step);
            break;
          }
          this.#queue.shift();
          if (this.#serverGone) {
            this.#queuedBytes -= item.chunks.reduce((n, c) => n + c.length, 0);
            this.hooks.dropped(step);
          } else {
            this.#write(item.chunks);
            this.hooks.sent(item);
          }
          continue;
        }
        this.#queue.shift();
        if (item.kind === 'end') {
          if (!this.server.destroyed && !this.server.writableEnded) this.server.end();
          continue;
        }
        this.#write(item.chunks);
        if (item.copyEnd !== undefined) this.hooks.copyEnded(item.copyEnd);
      }
    } finally {
      this.server.uncork();
    }
    this.#updateFlow();
  }

  /**
   * The server ended or closed: steps not written yet (held ones too) are dropped, now and from then on;
   * plain bytes and the client's end still go while the socket can take them (a TLS close_notify after
   * the server's FIN, as on a direct connection).
   */
  serverGone(): void {
    this.#serverGone = true;
    for (const item of this.#queue) if (item.kind === 'step') item.run.step.state = 'queued';
    this.pump();
  }

  #write(chunks: Buffer[]): void {
    for (const c of chunks) {
      this.#queuedBytes -= c.length;
      if (this.server.destroyed || this.server.writableEnded) continue;
      if (!this.server.write(c)) this.#serverBlocked = true;
    }
  }

  #updateFlow(): void {
    const stop = this.#serverBlocked || this.#queuedBytes > HIGH_WATER_BYTES;
    if (stop && !this.#clientPaused) this.client.pause();
    else if (!stop && this.#clientPaused) this.client.resume();
    this.#clientPaused = stop;
  }
}
