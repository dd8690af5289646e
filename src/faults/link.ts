import type { Socket } from 'node:net';
import { Channel, type Chunk, type ChunkSink } from './stream.js';
import { noopToxic, type StubHost, type Toxic, ToxicStub } from './toxic.js';
import type { Direction } from './toxics/config.js';
import type { ToxicConfig } from './toxics/registry.js';

/** A toxic as the proxy holds it: its validated configuration and the behaviour built from it. */
export interface ActiveToxic {
  /** Unique per proxy. */
  readonly name: string;
  readonly config: ToxicConfig;
  // biome-ignore lint/suspicious/noExplicitAny: state type differs per toxic.
  readonly toxic: Toxic<any>;
}

/** Bytes waiting inside a link above which the source socket is paused (TCP pushes back on the sender). */
export const HIGH_WATER_BYTES = 1024 * 1024;
/** The source resumes once the link holds no more than this. */
export const LOW_WATER_BYTES = 256 * 1024;

export interface LinkHost extends StubHost {
  /** The end of this direction's stream reached the sink: the connection decides how to close. */
  onEnd(direction: Direction): void;
}

interface Stage {
  readonly entry: ActiveToxic;
  readonly stub: ToxicStub;
  /** Toxicity roll for this connection: false runs a no-op instead of the toxic. */
  readonly applies: boolean;
}

/**
 * One direction of one connection (Toxiproxy's `ToxicLink`):
 *
 * ```
 * source socket ─► [stub ─► channel ─► stub ─► …] ─► sink (destination socket)
 * ```
 *
 * With no toxics the source writes straight to the sink. Adding a toxic appends a stub and re-points the
 * previous stage's output at the new stub's input; removing one interrupts it (it writes what it holds),
 * moves what waits in its input to its output, and re-points the previous stage past it. Single-threaded
 * JavaScript makes each re-pointing atomic, so no byte is lost or reordered.
 */
export class ToxicLink {
  readonly sink: ChunkSink;
  #stages: Stage[] = [];
  #sourceOutput: ChunkSink;
  #sourceEnded = false;
  #pendingBytes = 0;
  #sinkBlocked = false;
  #paused = false;
  readonly #meter = { add: (n: number) => this.#meterAdd(n) };

  constructor(
    readonly direction: Direction,
    private readonly source: Socket,
    private readonly dest: Socket,
    private readonly host: LinkHost,
  ) {
    this.sink = {
      write: (c: Chunk) => this.#writeToDest(c),
      end: () => host.onEnd(direction),
    };
    this.#sourceOutput = this.sink;
  }

  /** Bytes read from the source (called from the source socket's `data` event). */
  push(data: Buffer): void {
    this.#sourceOutput.write({ data, receivedAtMs: this.host.clock() });
  }

  /** The source half-closed or went away. Idempotent. */
  pushEnd(): void {
    if (this.#sourceEnded) return;
    this.#sourceEnded = true;
    this.#sourceOutput.end();
  }

  /** Names of the toxics in this link, in chain order. */
  get toxicNames(): string[] {
    return this.#stages.map((s) => s.entry.name);
  }

  /** Append a toxic at the end of the chain (Toxiproxy: "New toxics are always added to the end"). */
  add(entry: ActiveToxic, applies: boolean): void {
    const input = new Channel(this.#meter);
    const state = applies ? entry.toxic.newState?.() : undefined;
    const stub = new ToxicStub(input, this.sink, this.host, state);
    this.#setOutputBefore(this.#stages.length, input);
    this.#stages.push({ entry, stub, applies });
    stub.run(applies ? entry.toxic : noopToxic);
  }

  /** Remove a toxic without dropping data. No-op when it is not in this link. */
  async remove(name: string): Promise<void> {
    const stage = this.#stages.find((s) => s.entry.name === name);
    if (!stage) return;
    await stage.stub.interrupt();
    if (stage.applies && !stage.stub.closed) stage.entry.toxic.cleanup?.(stage.stub);
    if (!stage.stub.closed) {
      const { chunks, ended } = stage.stub.input.takeAll();
      for (const c of chunks) stage.stub.output.write(c);
      if (ended) stage.stub.output.end();
    }
    const i = this.#stages.indexOf(stage);
    this.#setOutputBefore(i, stage.stub.output);
    this.#stages.splice(i, 1);
  }

  /** Stop every toxic at once (connection teardown). */
  abort(): void {
    for (const s of this.#stages) s.stub.abort();
  }

  #setOutputBefore(index: number, out: ChunkSink): void {
    if (index === 0) this.#sourceOutput = out;
    else this.#stages[index - 1]!.stub.output = out;
  }

  #writeToDest(c: Chunk): void {
    const dest = this.dest;
    if (dest.destroyed || dest.writableEnded) return;
    if (!dest.write(c.data) && !this.#sinkBlocked) {
      this.#sinkBlocked = true;
      this.#updateFlow();
      dest.once('drain', () => {
        this.#sinkBlocked = false;
        this.#updateFlow();
      });
    }
  }

  #meterAdd(n: number): void {
    this.#pendingBytes += n;
    this.#updateFlow();
  }

  #updateFlow(): void {
    if (!this.#paused) {
      if (this.#sinkBlocked || this.#pendingBytes > HIGH_WATER_BYTES) {
        this.#paused = true;
        this.source.pause();
      }
    } else if (!this.#sinkBlocked && this.#pendingBytes <= LOW_WATER_BYTES) {
      this.#paused = false;
      this.source.resume();
    }
  }
}
