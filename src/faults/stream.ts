/**
 * The bytes that flow through a toxic link, and the queue between two toxics (Toxiproxy's `stream`
 * package: `StreamChunk` and the channels between `ToxicStub`s).
 *
 * A channel is unbounded in itself; the link meters the bytes waiting in all its channels and pauses the
 * source socket above a high-water mark, so a slow toxic pushes back on the sender like TCP would.
 */

/** One piece of data as the proxy read it from a socket. */
export interface Chunk {
  readonly data: Buffer;
  /** When the proxy read these bytes, ms on the proxy's clock. Latency counts from here. */
  readonly receivedAtMs: number;
}

/** Where a stage writes: the next toxic's input channel or the destination socket. */
export interface ChunkSink {
  write(chunk: Chunk): void;
  /** No more data in this direction (the source half-closed, or a toxic ended the stream). */
  end(): void;
}

/** `read()` result: the input has ended; every later read returns it again. */
export const END: unique symbol = Symbol('end');
/** `read()` result: the toxic is being interrupted (removed, or the link is rebuilt); return from `pipe`. */
export const INTERRUPTED: unique symbol = Symbol('interrupted');
export type ReadResult = Chunk | typeof END | typeof INTERRUPTED;

/** Counts bytes waiting in a link's channels (for backpressure). */
export interface ByteMeter {
  add(bytes: number): void;
}

/**
 * Tells a toxic to stop (Toxiproxy's `stub.Interrupt` channel). Cheaper than an `AbortSignal`, whose
 * listeners cost several µs per chunk.
 */
export class Interrupt {
  #fired = false;
  #fns = new Set<() => void>();

  get fired(): boolean {
    return this.#fired;
  }

  /** Call `fn` when fired; returns the unsubscribe. */
  on(fn: () => void): () => void {
    this.#fns.add(fn);
    return () => this.#fns.delete(fn);
  }

  fire(): void {
    if (this.#fired) return;
    this.#fired = true;
    const fns = [...this.#fns];
    this.#fns.clear();
    for (const fn of fns) fn();
  }
}

export class Channel implements ChunkSink {
  #queue: Chunk[] = [];
  #head = 0;
  #ended = false;
  #waiter: ((r: ReadResult) => void) | undefined;

  constructor(private readonly meter?: ByteMeter) {}

  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes queued and not yet read. */
  get queuedBytes(): number {
    let n = 0;
    for (let i = this.#head; i < this.#queue.length; i++) n += this.#queue[i]!.data.length;
    return n;
  }

  write(chunk: Chunk): void {
    if (this.#ended) return; // nothing flows after the end of a stream
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w(chunk);
      return;
    }
    this.#queue.push(chunk);
    this.meter?.add(chunk.data.length);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const w = this.#waiter;
    if (w && this.#head === this.#queue.length) {
      this.#waiter = undefined;
      w(END);
    }
  }

  /** Next chunk, `END` once the input ended and is drained, or `INTERRUPTED` when `interrupt` fires first. */
  read(interrupt: Interrupt): Promise<ReadResult> | ReadResult {
    if (interrupt.fired) return INTERRUPTED;
    const c = this.#shift();
    if (c) return c;
    if (this.#ended) return END;
    if (this.#waiter) throw new Error('Channel.read: one reader at a time');
    return new Promise<ReadResult>((resolve) => {
      const off = interrupt.on(() => {
        if (this.#waiter === done) this.#waiter = undefined;
        resolve(INTERRUPTED);
      });
      const done = (r: ReadResult) => {
        off();
        resolve(r);
      };
      this.#waiter = done;
    });
  }

  /** Remove and return everything queued (used when the toxic reading this channel is removed). */
  takeAll(): { chunks: Chunk[]; ended: boolean } {
    const chunks = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    let bytes = 0;
    for (const c of chunks) bytes += c.data.length;
    this.meter?.add(-bytes);
    return { chunks, ended: this.#ended };
  }

  #shift(): Chunk | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const c = this.#queue[this.#head]!;
    this.#queue[this.#head] = undefined as unknown as Chunk;
    this.#head++;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.meter?.add(-c.data.length);
    return c;
  }
}
