/**
 * HTTP/2 frames, encode and decode (RFC 9113 §4 and §6; RFC 7540 for the parts it still owns). Only what
 * a client sending bursts needs: no server push, no priorities (PRIORITY frames are parsed and ignored).
 *
 * ```
 * +-----------------------------------------------+
 * |                 Length (24)                   |
 * +---------------+---------------+---------------+
 * |   Type (8)    |   Flags (8)   |
 * +-+-------------+---------------+-------------------------------+
 * |R|                 Stream Identifier (31)                      |
 * +=+=============================================================+
 * |                   Frame Payload (0...)                      ...
 * +---------------------------------------------------------------+
 * ```
 */

export const FRAME_HEADER_BYTES = 9;

/** What a client sends first on a connection (RFC 9113 §3.4), before its SETTINGS frame. */
export const CONNECTION_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = {
  END_STREAM: 0x1,
  /** SETTINGS and PING acknowledgements share bit 0 with END_STREAM. */
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** Defaults until the peer's SETTINGS say otherwise (RFC 9113 §6.5.2). Sizes in bytes. */
export const DEFAULT_INITIAL_WINDOW_BYTES = 65_535;
export const DEFAULT_MAX_FRAME_BYTES = 16_384;

/** RFC 9113 §7 error codes by number, for records like `RST_STREAM:REFUSED_STREAM`. */
const ERROR_NAMES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
];

export function errorCodeName(code: number): string {
  return ERROR_NAMES[code] ?? `0x${code.toString(16)}`;
}

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** A frame this layer cannot accept (a connection error in RFC 9113 terms). */
export class FrameError extends Error {
  override name = 'FrameError';
}

export function encodeFrame(
  type: number,
  flags: number,
  streamId: number,
  payload: Uint8Array = Buffer.alloc(0),
): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUIntBE(payload.length, 0, 3);
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(streamId & 0x7fffffff, 5);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

export function settingsFrame(settings: ReadonlyArray<readonly [id: number, value: number]>): Buffer {
  const payload = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return encodeFrame(FrameType.SETTINGS, 0, 0, payload);
}

export const SETTINGS_ACK = encodeFrame(FrameType.SETTINGS, Flag.ACK, 0);

/** A PING with 8 bytes of opaque data (RFC 9113 §6.7). */
export function pingFrame(data: Uint8Array, ack = false): Buffer {
  if (data.length !== 8) throw new FrameError('PING payload must be 8 bytes');
  return encodeFrame(FrameType.PING, ack ? Flag.ACK : 0, 0, data);
}

/** Grant the peer `incrementBytes` more to send on `streamId` (0 = the connection), RFC 9113 §6.9. */
export function windowUpdateFrame(streamId: number, incrementBytes: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(incrementBytes & 0x7fffffff, 0);
  return encodeFrame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

export function rstStreamFrame(streamId: number, errorCode: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(errorCode, 0);
  return encodeFrame(FrameType.RST_STREAM, 0, streamId, payload);
}

/**
 * HEADERS for `block`, split into HEADERS + CONTINUATION frames of at most `maxFrameBytes` (RFC 9113
 * §6.2, §6.10). END_STREAM goes on the HEADERS frame when asked; END_HEADERS on the last frame.
 */
export function headersFrames(
  streamId: number,
  block: Buffer,
  endStream: boolean,
  maxFrameBytes: number,
): Buffer[] {
  const frames: Buffer[] = [];
  for (let pos = 0, first = true; first || pos < block.length; first = false) {
    const part = block.subarray(pos, pos + maxFrameBytes);
    pos += part.length;
    const last = pos >= block.length;
    const flags = (last ? Flag.END_HEADERS : 0) | (first && endStream ? Flag.END_STREAM : 0);
    frames.push(encodeFrame(first ? FrameType.HEADERS : FrameType.CONTINUATION, flags, streamId, part));
  }
  return frames;
}

/** DATA frames for `data`, each at most `maxFrameBytes`; END_STREAM on the last when asked (one empty frame for empty data). */
export function dataFrames(
  streamId: number,
  data: Buffer,
  endStream: boolean,
  maxFrameBytes: number,
): Buffer[] {
  const frames: Buffer[] = [];
  for (let pos = 0, first = true; first || pos < data.length; first = false) {
    const part = data.subarray(pos, pos + maxFrameBytes);
    pos += part.length;
    const last = pos >= data.length;
    frames.push(encodeFrame(FrameType.DATA, last && endStream ? Flag.END_STREAM : 0, streamId, part));
  }
  return frames;
}

/** Splits a byte stream into frames. Rejects frames larger than `maxFrameBytes` (our SETTINGS_MAX_FRAME_SIZE). */
export class FrameDecoder {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {}

  push(chunk: Buffer): Frame[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: Frame[] = [];
    while (this.buffer.length >= FRAME_HEADER_BYTES) {
      const length = this.buffer.readUIntBE(0, 3);
      if (length > this.maxFrameBytes)
        throw new FrameError(`frame of ${length} bytes above ${this.maxFrameBytes}`);
      if (this.buffer.length < FRAME_HEADER_BYTES + length) break;
      frames.push({
        type: this.buffer[3]!,
        flags: this.buffer[4]!,
        streamId: this.buffer.readUInt32BE(5) & 0x7fffffff,
        payload: this.buffer.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length),
      });
      this.buffer = this.buffer.subarray(FRAME_HEADER_BYTES + length);
    }
    return frames;
  }
}

/** The content of a DATA or HEADERS frame without padding and (HEADERS) priority fields, §6.1, §6.2. */
export function framePayloadContent(frame: Frame): Buffer {
  let start = 0;
  let end = frame.payload.length;
  if (frame.flags & Flag.PADDED) {
    if (end < 1) throw new FrameError('PADDED frame without a pad length');
    const pad = frame.payload[0]!;
    start = 1;
    end -= pad;
  }
  if (frame.type === FrameType.HEADERS && frame.flags & Flag.PRIORITY) start += 5;
  if (end < start) throw new FrameError('padding longer than the frame');
  return frame.payload.subarray(start, end);
}

export function decodeSettings(payload: Buffer): Array<[id: number, value: number]> {
  if (payload.length % 6) throw new FrameError('SETTINGS payload not a multiple of 6 bytes');
  const out: Array<[number, number]> = [];
  for (let i = 0; i < payload.length; i += 6)
    out.push([payload.readUInt16BE(i), payload.readUInt32BE(i + 2)]);
  return out;
}

export function decodeGoaway(payload: Buffer): { lastStreamId: number; errorCode: number; debug: string } {
  if (payload.length < 8) throw new FrameError('GOAWAY shorter than 8 bytes');
  return {
    lastStreamId: payload.readUInt32BE(0) & 0x7fffffff,
    errorCode: payload.readUInt32BE(4),
    debug: payload.subarray(8).toString('utf8'),
  };
}

/** The 32-bit payload of RST_STREAM (error code) or WINDOW_UPDATE (increment, 31 bits). */
export function decodeUint32(payload: Buffer, mask = 0xffffffff): number {
  if (payload.length !== 4) throw new FrameError(`expected a 4-byte payload, got ${payload.length}`);
  return (payload.readUInt32BE(0) & mask) >>> 0;
}
