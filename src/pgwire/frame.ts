/**
 * Cutting a PostgreSQL wire stream (v3 protocol, either direction) into messages.
 *
 * ```
 *  tagged message     [type: 1 byte][length: int32, counts itself, not the type][body: length − 4]
 *  untagged (startup) [length: int32, counts itself][code: int32][body]   — StartupMessage, SSLRequest,
 *                                                                          GSSENCRequest, CancelRequest
 *  one-byte reply     'S' | 'N' | 'G'                                    — the server's answer to an
 *                                                                          SSLRequest or GSSENCRequest
 * ```
 *
 * The reader of the stream decides, between two messages, which of the three comes next (`mode`): the
 * protocol does not say it in the bytes. A message whose body the reader does not need (a server's
 * DataRow, a CopyData) can be skipped: its body is never buffered, so a 1 GiB row costs no memory here.
 *
 * pg-protocol (node-postgres' parser) only parses whole *backend* messages from a stream it owns and
 * gives no raw bytes, no untagged packets and no skipping, which is why this framer exists; the backend
 * bodies it keeps are then decoded by pg-protocol (`backend-messages.ts`).
 *
 * Sources: PostgreSQL documentation, "Frontend/Backend Protocol" — "Message Formats" and "Message Flow".
 */

/** What the next message in the stream looks like (set by the reader between messages). */
export type FrameMode = 'tagged' | 'untagged' | 'one-byte';

/**
 * Called once per message, in order. `code`: the type byte (`0x51` for 'Q' …); 0 for an untagged
 * startup-phase packet; for a one-byte reply, the byte itself ('S' 0x53, 'N' 0x4e, 'G' 0x47).
 * `raw`: the whole message, header included (a view of the received bytes when it lay in one chunk);
 * undefined when its body was skipped. `size`: bytes of the whole message. Positional arguments, not an
 * object: the callback runs once per DataRow, and an object each would cost more than the framing.
 */
export type OnFrame = (code: number, raw: Buffer | undefined, size: number, oneByte: boolean) => void;

/** The bytes do not follow the protocol (bad length): the reader should stop framing this stream. */
export class FrameError extends Error {
  override name = 'FrameError';
}

/** PostgreSQL's own limit for a startup packet (`MAX_STARTUP_PACKET_LENGTH` in its postmaster). */
export const MAX_STARTUP_PACKET_BYTES = 10_000;
/** Largest message PostgreSQL accepts or sends (1 GiB, its `PQ_LARGE_MESSAGE_LIMIT` / `MaxAllocSize`). */
export const MAX_MESSAGE_BYTES = 0x3fff_ffff + 5;

export interface FramerOptions {
  /** Whether the body of a tagged message with this type byte is needed; default all. */
  keepBody?: (code: number) => boolean;
}

/**
 * Incremental framer: `push(chunk, onFrame)` calls `onFrame` for every message completed by `chunk`, in
 * order. `onFrame` may change `mode` (it is read at the start of every message) or call `stop()`.
 * @throws FrameError from `push` when a length is impossible; the framer is then stopped.
 */
export class Framer {
  mode: FrameMode;
  #keepBody: (code: number) => boolean;
  #chunks: Buffer[] = [];
  /** Bytes of `#chunks[0]` already consumed. */
  #offset = 0;
  /** Unconsumed bytes in `#chunks`. */
  #length = 0;
  /** Body bytes of a skipped message still to come. */
  #skip = 0;
  #stopped = false;

  constructor(mode: FrameMode, options: FramerOptions = {}) {
    this.mode = mode;
    this.#keepBody = options.keepBody ?? (() => true);
  }

  /** Bytes received but not yet part of a complete message. */
  get bufferedBytes(): number {
    return this.#length;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Stop framing; returns the bytes buffered but not yet framed (so the caller can forward them). */
  stop(): Buffer[] {
    this.#stopped = true;
    const rest = this.#chunks;
    if (rest.length && this.#offset) rest[0] = rest[0]!.subarray(this.#offset);
    this.#chunks = [];
    this.#offset = 0;
    this.#length = 0;
    return rest;
  }

  push(chunk: Buffer, onFrame: OnFrame): void {
    if (this.#stopped) return;
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, chunk.length);
      this.#skip -= n;
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    while (!this.#stopped && this.#length > 0) {
      if (this.mode === 'one-byte') {
        const b = this.#byte(0);
        if (b === 0x53 || b === 0x4e || b === 0x47) {
          onFrame(b, this.#take(1), 1, true);
          continue;
        }
        // Anything else is an ordinary message (an ErrorResponse from a server that refuses the request).
        this.mode = 'tagged';
      }
      const header = this.mode === 'untagged' ? 4 : 5;
      if (this.#length < header) return;
      const code = header === 5 ? this.#byte(0) : 0;
      const length = this.#int32(header - 4);
      const size = length + header - 4;
      if (
        header === 4
          ? length < 8 || length > MAX_STARTUP_PACKET_BYTES
          : length < 4 || size > MAX_MESSAGE_BYTES
      ) {
        this.#stopped = true;
        throw new FrameError(
          `impossible ${header === 4 ? 'startup packet' : `message '${String.fromCharCode(code)}'`} length ${length}`,
        );
      }
      if (header === 4 || this.#keepBody(code)) {
        if (this.#length < size) return;
        onFrame(code, this.#take(size), size, false);
      } else {
        const now = Math.min(size, this.#length);
        this.#drop(now);
        this.#skip = size - now;
        onFrame(code, undefined, size, false);
        if (this.#skip > 0) return;
      }
    }
  }

  /** The buffered byte at position i (i < #length). */
  #byte(i: number): number {
    let at = this.#offset + i;
    for (const c of this.#chunks) {
      if (at < c.length) return c[at]!;
      at -= c.length;
    }
    return -1;
  }

  /** Big-endian int32 at position i of the buffered bytes (i + 4 ≤ #length). */
  #int32(i: number): number {
    const c = this.#chunks[0]!;
    const at = this.#offset + i;
    if (at + 4 <= c.length) return c.readInt32BE(at);
    return (
      (this.#byte(i) << 24) | (this.#byte(i + 1) << 16) | (this.#byte(i + 2) << 8) | this.#byte(i + 3) | 0
    );
  }

  /** Consume n bytes (n ≤ #length) as one buffer; a view of the chunk when it lies in one. */
  #take(n: number): Buffer {
    const c = this.#chunks[0]!;
    if (c.length - this.#offset >= n) {
      const out = c.subarray(this.#offset, this.#offset + n);
      this.#drop(n);
      return out;
    }
    const all = Buffer.concat([c.subarray(this.#offset), ...this.#chunks.slice(1)], this.#length);
    const out = all.subarray(0, n);
    this.#chunks = n < all.length ? [all.subarray(n)] : [];
    this.#offset = 0;
    this.#length -= n;
    return out;
  }

  #drop(n: number): void {
    this.#length -= n;
    while (n > 0) {
      const c = this.#chunks[0]!;
      const left = c.length - this.#offset;
      if (left <= n) {
        n -= left;
        this.#chunks.shift();
        this.#offset = 0;
      } else {
        this.#offset += n;
        n = 0;
      }
    }
  }
}
