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

export interface Frame {
  /**
   * The type byte (`0x51` for 'Q' …); 0 for an untagged startup-phase packet. For a one-byte reply, the
   * byte itself ('S' 0x53, 'N' 0x4e, 'G' 0x47).
   */
  readonly code: number;
  /** Whole message, header included; undefined when the body was skipped. */
  readonly raw: Buffer | undefined;
  /** Size of the whole message in bytes, header included. */
  readonly size: number;
  /** True for a one-byte SSL/GSS reply. */
  readonly oneByte?: boolean;
}

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
    this.#chunks = [];
    this.#length = 0;
    return rest;
  }

  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
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
        const b = this.#peek(1)[0]!;
        if (b === 0x53 || b === 0x4e || b === 0x47) {
          const raw = this.#take(1);
          onFrame({ code: b, raw, size: 1, oneByte: true });
          continue;
        }
        // Anything else is an ordinary message (an ErrorResponse from a server that refuses the request).
        this.mode = 'tagged';
      }
      const header = this.mode === 'untagged' ? 4 : 5;
      if (this.#length < header) return;
      const h = this.#peek(header);
      const code = header === 5 ? h[0]! : 0;
      const length = h.readInt32BE(header - 4);
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
        onFrame({ code, raw: this.#take(size), size });
      } else {
        const now = Math.min(size, this.#length);
        this.#drop(now);
        this.#skip = size - now;
        onFrame({ code, raw: undefined, size });
        if (this.#skip > 0) return;
      }
    }
  }

  /** The first n buffered bytes (n ≤ #length), without consuming them. */
  #peek(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first;
    return Buffer.concat(this.#chunks, Math.min(this.#length, Math.max(n, 5))).subarray(0, n);
  }

  /** Consume n bytes (n ≤ #length) as one buffer; a slice of the chunk when it lies in one. */
  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.#chunks, this.#length);
      out = all.subarray(0, n);
      this.#chunks = n < all.length ? [all.subarray(n)] : [];
    }
    this.#length -= n;
    return out;
  }

  #drop(n: number): void {
    this.#length -= n;
    while (n > 0) {
      const first = this.#chunks[0]!;
      if (first.length <= n) {
        n -= first.length;
        this.#chunks.shift();
      } else {
        this.#chunks[0] = first.subarray(n);
        n = 0;
      }
    }
  }
}
