import { connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import {
  CONNECTION_PREFACE,
  DEFAULT_INITIAL_WINDOW_BYTES,
  DEFAULT_MAX_FRAME_BYTES,
  dataFrames,
  decodeGoaway,
  decodeSettings,
  decodeUint32,
  errorCodeName,
  Flag,
  type Frame,
  FrameDecoder,
  FrameType,
  framePayloadContent,
  headersFrames,
  pingFrame,
  SETTINGS_ACK,
  Setting,
  settingsFrame,
  windowUpdateFrame,
} from './h2-frames.js';
import { encodeHeaderBlock, type HeaderField, HpackDecoder } from './hpack.js';
import { ConnectionFailure } from './raw-http1.js';

/**
 * A minimal HTTP/2 client connection on a raw socket (RFC 9113), written because `node:http2` cannot
 * hold back END_STREAM frames and release many of them in one write (the single-packet attack, Kettle
 * 2023). We build the frames; the caller decides when they hit the socket.
 *
 * ```
 * open():   preface + SETTINGS + WINDOW_UPDATE ──►      ◄── SETTINGS (we ACK), WINDOW_UPDATE …
 * stream(): HEADERS [+ DATA] frames as Buffers, and a Promise of the response
 * inbound:  HEADERS/CONTINUATION → HPACK → :status · DATA → body (+ WINDOW_UPDATE back) · RST_STREAM,
 *           GOAWAY, socket errors → failed streams · SETTINGS → ACK · PING → PING ACK
 * ```
 *
 * Cleartext `http:` uses prior knowledge (h2c, RFC 9113 §3.3); `https:` negotiates `h2` by ALPN
 * (certificates not verified: targets are local test servers). Failed streams reject with a
 * `ConnectionFailure` whose code is `RST_STREAM:<error>`, `GOAWAY:<error>`, the socket's errno code,
 * `SOCKET_CLOSED`, `H2_PROTOCOL` or whatever `fail()` was given.
 */
export interface H2Response {
  status: number;
  headers: HeaderField[];
  body: Buffer;
}

/** Our receive windows, bytes: large, so a burst's responses never wait on us. */
const LOCAL_WINDOW_BYTES = 16 * 1024 * 1024;

interface StreamState {
  status?: number;
  headers: HeaderField[];
  body: Buffer[];
  /** Bytes we may still send on this stream (peer's window). */
  sendWindow: number;
  resolve: (r: H2Response) => void;
  reject: (e: ConnectionFailure) => void;
}

export class H2Connection {
  private readonly decoder = new FrameDecoder(DEFAULT_MAX_FRAME_BYTES);
  private readonly hpack = new HpackDecoder();
  private readonly streams = new Map<number, StreamState>();
  private nextStreamId = 1;
  /** Header block fragments of a HEADERS frame awaiting CONTINUATION. */
  private pendingBlock?: { streamId: number; parts: Buffer[]; endStream: boolean };
  private pingWaiters: Array<() => void> = [];
  private settingsSeen!: () => void;
  /** Resolves once the server's first SETTINGS arrived. */
  readonly ready = new Promise<void>((r) => (this.settingsSeen = r));
  /** The server's settings (RFC 9113 §6.5.2). */
  maxConcurrentStreams = Number.POSITIVE_INFINITY;
  initialWindowBytes = DEFAULT_INITIAL_WINDOW_BYTES;
  maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
  /** Connection-level bytes we may still send. */
  sendWindow = DEFAULT_INITIAL_WINDOW_BYTES;
  failure?: string;
  failureMessage?: string;

  /** The server's first bytes, until they hold a frame header (9 bytes). */
  private firstBytes: Buffer | undefined = Buffer.alloc(0);

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      if (this.firstBytes) {
        // The server's first frame must be SETTINGS (RFC 9113 §3.4): anything else (an HTTP/1.x status
        // line, Python's bare HTML error page) means the target does not speak HTTP/2.
        this.firstBytes = Buffer.concat([this.firstBytes, chunk]);
        if (this.firstBytes.length < 9) return;
        const head = this.firstBytes;
        this.firstBytes = undefined;
        if (head[3] !== FrameType.SETTINGS || head.readUInt32BE(5) !== 0) {
          const text = JSON.stringify(head.subarray(0, 40).toString('latin1').split(/\r?\n/)[0]);
          this.fail(
            'H2_NOT_SUPPORTED',
            `the target answered the HTTP/2 connection preface with ${text}, not a SETTINGS frame: it does not speak HTTP/2 (h2c prior knowledge)`,
          );
          return;
        }
        chunk = head;
      }
      try {
        for (const frame of this.decoder.push(chunk)) this.onFrame(frame);
      } catch (err) {
        this.fail(`H2_PROTOCOL`, (err as Error).message);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => this.fail(err.code ?? err.message));
    socket.on('close', () => this.fail('SOCKET_CLOSED'));
  }

  /**
   * Connect, send the preface and our SETTINGS, and wait for the server's (at most `timeoutMs` ms if
   * given; a burst's phases set one deadline for all connections instead). A server whose first bytes
   * are not a SETTINGS frame, or that closes the connection before one, rejects with `H2_NOT_SUPPORTED`.
   */
  static async open(
    url: URL,
    timeoutMs: number | undefined,
    onSocket: (s: Socket) => void,
  ): Promise<H2Connection> {
    const tls = url.protocol === 'https:';
    const port = Number(url.port || (tls ? 443 : 80));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const socket = tls
      ? tlsConnect({ host, port, servername: host, ALPNProtocols: ['h2'], rejectUnauthorized: false })
      : netConnect({ host, port });
    onSocket(socket);
    socket.setNoDelay(true);
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => socket.destroy(new ConnectionFailure('TIMEOUT')), timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.once(tls ? 'secureConnect' : 'connect', () => {
          socket.off('error', reject);
          resolve();
        });
      });
      if (tls && (socket as TLSSocket).alpnProtocol !== 'h2') {
        socket.destroy();
        throw new ConnectionFailure('H2_NOT_NEGOTIATED', `${url.origin} did not negotiate h2 by ALPN`);
      }
      const conn = new H2Connection(socket);
      socket.write(
        Buffer.concat([
          CONNECTION_PREFACE,
          settingsFrame([
            [Setting.ENABLE_PUSH, 0],
            [Setting.INITIAL_WINDOW_SIZE, LOCAL_WINDOW_BYTES],
          ]),
          windowUpdateFrame(0, LOCAL_WINDOW_BYTES - DEFAULT_INITIAL_WINDOW_BYTES),
        ]),
      );
      await Promise.race([
        conn.ready,
        new Promise<never>((_, reject) =>
          socket.once('close', () => {
            if (
              conn.failure === undefined ||
              conn.failure === 'SOCKET_CLOSED' ||
              conn.failure === 'ECONNRESET'
            ) {
              reject(
                new ConnectionFailure(
                  'H2_NOT_SUPPORTED',
                  'the target closed the connection after the HTTP/2 connection preface, without a SETTINGS frame: it does not speak HTTP/2 (h2c prior knowledge)',
                ),
              );
            } else reject(new ConnectionFailure(conn.failure, conn.failureMessage));
          }),
        ),
      ]);
      return conn;
    } catch (err) {
      socket.destroy();
      const e = err as NodeJS.ErrnoException;
      if (err instanceof ConnectionFailure) throw err;
      throw new ConnectionFailure(e.code ?? 'ECONNECT', e.message);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Open a stream for a request and return its frames without writing them: `preSend` (HEADERS, and the
   * body minus its last byte) and `held` (the final DATA frame carrying END_STREAM: the body's last byte,
   * or empty for a bodiless request). With `holdLastByte: false`, `preSend` is the whole request and `held`
   * is empty. Reserves flow-control window for the body; throws `ConnectionFailure('H2_FLOW_CONTROL')`
   * if the server's windows are too small for it (nothing here waits for WINDOW_UPDATE).
   */
  stream(
    fields: HeaderField[],
    body: Buffer | undefined,
    holdLastByte: boolean,
  ): { streamId: number; preSend: Buffer[]; held: Buffer[]; response: Promise<H2Response> } {
    if (this.failure) throw new ConnectionFailure(this.failure);
    const streamId = this.nextStreamId;
    this.nextStreamId += 2;
    const bytes = body?.length ?? 0;
    if (bytes > this.sendWindow || bytes > this.initialWindowBytes) {
      throw new ConnectionFailure(
        'H2_FLOW_CONTROL',
        `body of ${bytes} bytes exceeds the server's flow-control window (connection ${this.sendWindow}, stream ${this.initialWindowBytes} bytes)`,
      );
    }
    this.sendWindow -= bytes;
    const response = new Promise<H2Response>((resolve, reject) => {
      this.streams.set(streamId, {
        headers: [],
        body: [],
        sendWindow: this.initialWindowBytes - bytes,
        resolve,
        reject,
      });
    });
    const block = encodeHeaderBlock(fields);
    const bodiless = bytes === 0;
    const headers = headersFrames(streamId, block, bodiless && !holdLastByte, this.maxFrameBytes);
    if (!holdLastByte) {
      const data = bodiless ? [] : dataFrames(streamId, body!, true, this.maxFrameBytes);
      return { streamId, preSend: [...headers, ...data], held: [], response };
    }
    const head = bodiless ? [] : dataFrames(streamId, body!.subarray(0, -1), false, this.maxFrameBytes);
    const last = bodiless ? Buffer.alloc(0) : body!.subarray(-1);
    const preSend = [...headers, ...(bytes > 1 ? head : [])];
    return { streamId, preSend, held: dataFrames(streamId, last, true, this.maxFrameBytes), response };
  }

  /** Send a PING; resolves when its ACK comes back. */
  ping(): { frame: Buffer; acked: Promise<void> } {
    const frame = pingFrame(Buffer.from('wbping00', 'latin1'));
    return { frame, acked: new Promise((r) => this.pingWaiters.push(r)) };
  }

  /** Fail every open stream with `code` and destroy the socket. */
  fail(code: string, message: string = code): void {
    if (!this.failure) {
      this.failure = code;
      this.failureMessage = message;
    }
    for (const [id, s] of this.streams) {
      this.streams.delete(id);
      s.reject(new ConnectionFailure(this.failure, message));
    }
    this.socket.destroy();
  }

  /** Streams not yet complete. */
  get openStreams(): number {
    return this.streams.size;
  }

  private onFrame(frame: Frame): void {
    if (this.pendingBlock && frame.type !== FrameType.CONTINUATION) {
      throw new Error('expected CONTINUATION');
    }
    switch (frame.type) {
      case FrameType.SETTINGS:
        if (frame.flags & Flag.ACK) return;
        for (const [id, value] of decodeSettings(frame.payload)) this.applySetting(id, value);
        this.socket.write(SETTINGS_ACK);
        this.settingsSeen();
        return;
      case FrameType.PING:
        if (frame.flags & Flag.ACK) this.pingWaiters.shift()?.();
        else this.socket.write(pingFrame(frame.payload, true));
        return;
      case FrameType.WINDOW_UPDATE: {
        const inc = decodeUint32(frame.payload, 0x7fffffff);
        if (frame.streamId === 0) this.sendWindow += inc;
        else {
          const s = this.streams.get(frame.streamId);
          if (s) s.sendWindow += inc;
        }
        return;
      }
      case FrameType.HEADERS:
      case FrameType.CONTINUATION: {
        const part = frame.type === FrameType.HEADERS ? framePayloadContent(frame) : frame.payload;
        if (frame.type === FrameType.HEADERS) {
          this.pendingBlock = {
            streamId: frame.streamId,
            parts: [],
            endStream: !!(frame.flags & Flag.END_STREAM),
          };
        } else if (this.pendingBlock?.streamId !== frame.streamId) {
          throw new Error('CONTINUATION without HEADERS');
        }
        this.pendingBlock!.parts.push(part);
        if (!(frame.flags & Flag.END_HEADERS)) return;
        const { streamId, parts, endStream } = this.pendingBlock!;
        this.pendingBlock = undefined;
        // Decode every block, also for streams we no longer track: the HPACK table is connection state.
        const fields = this.hpack.decode(Buffer.concat(parts));
        const s = this.streams.get(streamId);
        if (!s) return;
        const status = fields.find(([n]) => n === ':status')?.[1];
        if (s.status === undefined && status !== undefined) {
          const code = Number(status);
          if (code >= 100 && code < 200) return; // interim response; the final one follows
          s.status = code;
          s.headers = fields.filter(([n]) => n !== ':status');
        }
        if (endStream) this.complete(streamId, s);
        return;
      }
      case FrameType.DATA: {
        if (frame.payload.length > 0) {
          // Give back what the frame cost us (padding included), so large responses keep flowing.
          this.socket.write(
            Buffer.concat([
              windowUpdateFrame(0, frame.payload.length),
              ...(frame.flags & Flag.END_STREAM
                ? []
                : [windowUpdateFrame(frame.streamId, frame.payload.length)]),
            ]),
          );
        }
        const s = this.streams.get(frame.streamId);
        if (!s) return;
        s.body.push(Buffer.from(framePayloadContent(frame)));
        if (frame.flags & Flag.END_STREAM) this.complete(frame.streamId, s);
        return;
      }
      case FrameType.RST_STREAM: {
        const s = this.streams.get(frame.streamId);
        if (!s) return;
        this.streams.delete(frame.streamId);
        s.reject(new ConnectionFailure(`RST_STREAM:${errorCodeName(decodeUint32(frame.payload))}`));
        return;
      }
      case FrameType.GOAWAY: {
        const { lastStreamId, errorCode } = decodeGoaway(frame.payload);
        // Streams above lastStreamId were not processed; the rest may still complete.
        for (const [id, s] of this.streams) {
          if (id <= lastStreamId) continue;
          this.streams.delete(id);
          s.reject(new ConnectionFailure(`GOAWAY:${errorCodeName(errorCode)}`));
        }
        return;
      }
      case FrameType.PUSH_PROMISE:
        throw new Error('PUSH_PROMISE although we disabled push');
      default:
        return; // PRIORITY and unknown types are ignored (RFC 9113 §4.1, §5.5)
    }
  }

  private applySetting(id: number, value: number): void {
    if (id === Setting.MAX_CONCURRENT_STREAMS) this.maxConcurrentStreams = value;
    else if (id === Setting.MAX_FRAME_SIZE) this.maxFrameBytes = value;
    else if (id === Setting.INITIAL_WINDOW_SIZE) {
      const delta = value - this.initialWindowBytes;
      this.initialWindowBytes = value;
      for (const s of this.streams.values()) s.sendWindow += delta; // §6.9.2
    }
  }

  private complete(streamId: number, s: StreamState): void {
    this.streams.delete(streamId);
    if (s.status === undefined) {
      s.reject(new ConnectionFailure('H2_PROTOCOL', 'stream ended without a :status'));
      return;
    }
    s.resolve({ status: s.status, headers: s.headers, body: Buffer.concat(s.body) });
  }
}
