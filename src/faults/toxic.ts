import type { Random } from './random.js';
import {
  type Channel,
  type Chunk,
  type ChunkSink,
  END,
  INTERRUPTED,
  Interrupt,
  type ReadResult,
} from './stream.js';

/**
 * A toxic changes how data flows through one direction of a proxied connection: it delays it, slows it,
 * slices it, stops it, or closes or resets the connection. Semantics, names and units follow Toxiproxy
 * (Shopify/toxiproxy, `toxics/toxic.go`), whose design this copies:
 *
 * ```
 *                         upstream link (client → server)
 *                   ┌──────────────────────────────────────────┐
 *                   │        Toxic          Toxic              │
 *                   │          v              v                │
 *  Client ──bytes──►│ source > ToxicStub > ToxicStub > sink ───┼──► Upstream
 *         ◄─────────┼─ sink < ToxicStub < ToxicStub < source ◄─┼───
 *                   │          ^                                │
 *                   │        Toxic                              │
 *                   └──────────────────────────────────────────┘
 *                        downstream link (server → client)
 * ```
 *
 * Each accepted connection has one link per direction. A link is a chain of `ToxicStub`s joined by
 * channels; each stub runs one toxic's `pipe()` for that connection. The toxic itself only holds settings,
 * so one toxic serves every connection; per-connection data lives on the stub (`stub.state`).
 *
 * Cross-cutting rules live in the runner, not in the toxics: toxicity (the probability that a toxic applies
 * to a connection) is rolled once per connection in `link.ts`, and a toxic that does not apply runs as a
 * no-op. Adding or removing a toxic rewires live links without losing data: an interrupted toxic must
 * write any chunk it holds before returning ("Don't drop any data on the floor").
 */
export interface Toxic<S = unknown> {
  /**
   * Move chunks from `stub.read()` to `stub.write()` until the input ends (`END`: forward it with
   * `stub.end()`, or close) or the stub is interrupted (`INTERRUPTED`, or a `sleep` that returns false:
   * write what you hold, then return).
   */
  pipe(stub: ToxicStub<S>): Promise<void>;
  /** Optional (Toxiproxy's `StatefulToxic`): per-connection state, created once, kept across interruptions. */
  newState?(): S;
  /** Optional (Toxiproxy's `CleanupToxic`): runs when the toxic is removed from a live connection. */
  cleanup?(stub: ToxicStub<S>): void;
  /**
   * Optional: an effect on the whole proxy while the toxic is active (`down: refuse` stops listening).
   * Returns the undo, run when the toxic is removed. Toxicity does not apply to it.
   */
  activate?(proxy: ProxyControl): Promise<() => Promise<void>>;
}

/** What a toxic may do to the proxy as a whole. */
export interface ProxyControl {
  /** Close the listening socket: new connections are refused (ECONNREFUSED); open ones continue. */
  stopListening(): Promise<void>;
  /** Listen again on the same address and port. */
  startListening(): Promise<void>;
}

/** What a stub needs from the connection it belongs to. */
export interface StubHost {
  readonly random: Random;
  /** Monotonic ms. */
  readonly clock: () => number;
  /** Close the whole connection (FIN both ways) once the end of this stream has reached the socket. */
  requestClose(): void;
  /** Reset both sockets now (TCP RST); unsent data is discarded. */
  reset(): void;
  /** A toxic threw: a bug. Tear the connection down and report. */
  fail(error: unknown): void;
}

/** One toxic's place in one connection's link (Toxiproxy's `ToxicStub`). */
export class ToxicStub<S = unknown> {
  /** Where this stage writes; the link re-points it when toxics are added or removed. */
  output: ChunkSink;
  /** Per-connection state of a stateful toxic (`Toxic.newState`). */
  state: S;
  #interrupt = new Interrupt();
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(
    readonly input: Channel,
    output: ChunkSink,
    private readonly host: StubHost,
    state: S,
  ) {
    this.output = output;
    this.state = state;
  }

  /** The running toxic has been interrupted. */
  get isInterrupted(): boolean {
    return this.#interrupt.fired;
  }

  /** The toxic closed or reset the connection. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Next chunk, `END`, or `INTERRUPTED`. */
  read(): Promise<ReadResult> | ReadResult {
    return this.input.read(this.#interrupt);
  }

  write(chunk: Chunk): void {
    this.output.write(chunk);
  }

  /** Forward the end of the stream (half-close), as a pass-through toxic does on `END`. */
  end(): void {
    this.output.end();
  }

  /** End this stream and close the connection once the end has been delivered (Toxiproxy `stub.Close()`). */
  close(): void {
    this.#closed = true;
    this.host.requestClose();
    this.output.end();
  }

  /** TCP RST both sockets now (`socket.resetAndDestroy()`); queued data is discarded. */
  reset(): void {
    this.#closed = true;
    this.host.reset();
  }

  /** Uniform in [0, 1) from the connection's seeded source. */
  random(): number {
    return this.host.random();
  }

  /** Monotonic ms on the proxy's clock (same clock as `Chunk.receivedAtMs`). */
  now(): number {
    return this.host.clock();
  }

  /** Sleep `ms`; true when the time passed, false when interrupted first. Never returns early. */
  sleep(ms: number): Promise<boolean> {
    return this.sleepUntil(this.host.clock() + ms);
  }

  /** Sleep until the clock reads `targetMs`; true when reached, false when interrupted first. */
  sleepUntil(targetMs: number): Promise<boolean> {
    const interrupt = this.#interrupt;
    if (interrupt.fired) return Promise.resolve(false);
    if (this.host.clock() >= targetMs) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout;
      const off = interrupt.on(() => {
        clearTimeout(timer);
        resolve(false);
      });
      const arm = () => {
        const left = targetMs - this.host.clock();
        if (left <= 0) {
          off();
          resolve(true);
          return;
        }
        // setTimeout has 1 ms granularity and may fire a little early: re-arm until the clock agrees.
        timer = setTimeout(arm, Math.max(1, Math.ceil(left)));
      };
      arm();
    });
  }

  /** Resolves when the toxic is interrupted (for toxics that hold everything, like `down: blackhole`). */
  interrupted(): Promise<void> {
    const interrupt = this.#interrupt;
    if (interrupt.fired) return Promise.resolve();
    return new Promise((resolve) => interrupt.on(resolve));
  }

  /** Start `toxic.pipe` on this stub (the link calls this). */
  run(toxic: Toxic<S>): void {
    this.#interrupt = new Interrupt();
    const running = toxic.pipe(this).catch((error: unknown) => this.host.fail(error));
    this.#running = running;
    void running.finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
  }

  /** Interrupt the running toxic and wait until it returned. False when it had already finished. */
  async interrupt(): Promise<boolean> {
    const running = this.#running;
    this.#interrupt.fire();
    if (!running) return false;
    await running;
    return true;
  }

  /** Abort without waiting (connection teardown). */
  abort(): void {
    this.#interrupt.fire();
  }
}

/** Toxiproxy's `NoopToxic`: passes everything through. Runs when toxicity says a toxic does not apply. */
export const noopToxic: Toxic = {
  async pipe(stub) {
    for (;;) {
      const c = await stub.read();
      if (c === INTERRUPTED) return;
      if (c === END) {
        stub.end();
        return;
      }
      stub.write(c);
    }
  },
};
