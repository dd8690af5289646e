import { describe, expect, it } from 'vitest';
import {
  dataFrames,
  decodeGoaway,
  decodeSettings,
  encodeFrame,
  errorCodeName,
  Flag,
  FrameDecoder,
  FrameError,
  FrameType,
  framePayloadContent,
  headersFrames,
  pingFrame,
  settingsFrame,
  windowUpdateFrame,
} from './h2-frames.js';

describe('h2 frames', () => {
  it('encodes the 9-byte header: length, type, flags, stream id with R cleared', () => {
    const f = encodeFrame(FrameType.DATA, Flag.END_STREAM, 0x80000003, Buffer.from('ab'));
    expect(f).toEqual(Buffer.from([0, 0, 2, 0, 1, 0, 0, 0, 3, 0x61, 0x62]));
  });

  it('decodes frames split at every byte and several per chunk', () => {
    const bytes = Buffer.concat([
      settingsFrame([
        [3, 100],
        [4, 1 << 20],
      ]),
      pingFrame(Buffer.from('12345678')),
      windowUpdateFrame(5, 1000),
      ...dataFrames(7, Buffer.from('hello world'), true, 4),
    ]);
    const whole = new FrameDecoder().push(bytes);
    const d = new FrameDecoder();
    const split = [];
    for (let i = 0; i < bytes.length; i++) split.push(...d.push(bytes.subarray(i, i + 1)));
    expect(split).toEqual(whole);
    expect(whole.map((f) => f.type)).toEqual([4, 6, 8, 0, 0, 0]);
    expect(decodeSettings(whole[0]!.payload)).toEqual([
      [3, 100],
      [4, 1 << 20],
    ]);
    expect(Buffer.concat(whole.slice(3).map((f) => f.payload)).toString()).toBe('hello world');
    expect(whole.slice(3).map((f) => f.flags)).toEqual([0, 0, Flag.END_STREAM]);
  });

  it('splits header blocks into HEADERS + CONTINUATION with END_HEADERS on the last', () => {
    const frames = new FrameDecoder().push(Buffer.concat(headersFrames(1, Buffer.alloc(10, 7), true, 4)));
    expect(frames.map((f) => [f.type, f.flags, f.payload.length])).toEqual([
      [FrameType.HEADERS, Flag.END_STREAM, 4],
      [FrameType.CONTINUATION, 0, 4],
      [FrameType.CONTINUATION, Flag.END_HEADERS, 2],
    ]);
    expect(dataFrames(1, Buffer.alloc(0), true, 4)).toHaveLength(1); // empty DATA carrying END_STREAM
  });

  it('strips padding and priority fields', () => {
    const padded = {
      type: FrameType.HEADERS,
      flags: Flag.PADDED | Flag.PRIORITY,
      streamId: 1,
      payload: Buffer.from([2, 0, 0, 0, 0, 9, 0xaa, 0xbb, 0, 0]),
    };
    expect(framePayloadContent(padded)).toEqual(Buffer.from([0xaa, 0xbb]));
    expect(() => framePayloadContent({ ...padded, payload: Buffer.from([20, 1]) })).toThrow(FrameError);
  });

  it('decodes GOAWAY and names error codes; rejects oversized frames', () => {
    const payload = Buffer.alloc(10);
    payload.writeUInt32BE(7, 0);
    payload.writeUInt32BE(11, 4);
    payload.write('hi', 8);
    expect(decodeGoaway(payload)).toEqual({ lastStreamId: 7, errorCode: 11, debug: 'hi' });
    expect(errorCodeName(7)).toBe('REFUSED_STREAM');
    expect(errorCodeName(0x99)).toBe('0x99');
    expect(() => new FrameDecoder(16).push(encodeFrame(0, 0, 1, Buffer.alloc(17)))).toThrow(FrameError);
  });
});
