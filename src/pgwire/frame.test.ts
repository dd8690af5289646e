import fc from 'fast-check';
import { serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';
import { FrameError, Framer, type OnFrame } from './frame.js';

interface Frame {
  code: number;
  raw: Buffer | undefined;
  size: number;
  oneByte?: boolean;
}

/** A callback that keeps what it is given as objects. */
const into =
  (out: Frame[], then?: (f: Frame) => void): OnFrame =>
  (code, raw, size, oneByte) => {
    const f: Frame = { code, raw, size, ...(oneByte ? { oneByte } : {}) };
    out.push(f);
    then?.(f);
  };

const collect = (framer: Framer, chunks: Buffer[]): Frame[] => {
  const out: Frame[] = [];
  for (const c of chunks) framer.push(c, into(out));
  return out;
};

/** Cut `buf` at the given (sorted, deduplicated) offsets. */
const cut = (buf: Buffer, at: number[]): Buffer[] => {
  const points = [...new Set(at.map((a) => a % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    if (p > prev) out.push(buf.subarray(prev, p));
    prev = p;
  }
  return out;
};

describe('Framer', () => {
  const stream = Buffer.concat([
    serialize.parse({ text: 'SELECT $1::int' }),
    serialize.bind({ values: ['42'] }),
    serialize.describe({ type: 'P' }),
    serialize.execute(),
    serialize.sync(),
    serialize.query('SELECT 1'),
  ]);

  it('gives whole tagged messages, raw bytes unchanged, however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 20 }), (at) => {
        const frames = collect(new Framer('tagged'), cut(stream, at));
        expect(frames.map((f) => String.fromCharCode(f.code)).join('')).toBe('PBDESQ');
        expect(Buffer.concat(frames.map((f) => f.raw!))).toEqual(stream);
      }),
    );
  });

  it('frames untagged startup packets, then tagged ones once the reader says so', () => {
    const framer = new Framer('untagged');
    const startup = serialize.startup({ user: 'u', database: 'd' });
    const out: Frame[] = [];
    framer.push(
      Buffer.concat([serialize.requestSsl(), startup, serialize.query('x')]),
      into(out, (f) => {
        if (f.code === 0 && f.raw?.readInt32BE(4) === 196608) framer.mode = 'tagged';
      }),
    );
    expect(out.map((f) => [f.code, f.size])).toEqual([
      [0, 8],
      [0, startup.length],
      [0x51, 7],
    ]);
  });

  it('reads a one-byte SSL reply, and an ErrorResponse in its place as a message', () => {
    const framer = new Framer('one-byte');
    const out: Frame[] = [];
    framer.push(
      Buffer.from('N'),
      into(out, () => {
        framer.mode = 'tagged';
      }),
    );
    expect(out[0]).toMatchObject({ code: 0x4e, size: 1, oneByte: true });
    const err = new Framer('one-byte');
    const frames = collect(err, [Buffer.from([0x45, 0, 0, 0, 5, 0])]);
    expect(frames).toMatchObject([{ code: 0x45, size: 6 }]);
  });

  it('skips bodies it is told not to keep without buffering them', () => {
    const row = Buffer.alloc(5 + 1_000_000);
    row[0] = 0x44;
    row.writeInt32BE(row.length - 1, 1);
    const framer = new Framer('tagged', { keepBody: (c) => c !== 0x44 });
    const frames: Frame[] = [];
    framer.push(row.subarray(0, 100), into(frames));
    expect(frames).toMatchObject([{ code: 0x44, raw: undefined, size: row.length }]);
    expect(framer.bufferedBytes).toBe(0);
    framer.push(Buffer.concat([row.subarray(100), serialize.sync()]), into(frames));
    expect(frames.map((f) => f.code)).toEqual([0x44, 0x53]);
  });

  it('skips bodies however the stream is cut, including inside a header', () => {
    const row = (n: number) => {
      const b = Buffer.alloc(5 + n, 0x61);
      b[0] = 0x44;
      b.writeInt32BE(n + 4, 1);
      return b;
    };
    const ready = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);
    const stream = Buffer.concat([row(3), row(300), row(0), ready]);
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 30 }), (at) => {
        const frames: Frame[] = [];
        const framer = new Framer('tagged', { keepBody: (c) => c !== 0x44 });
        for (const c of cut(stream, at)) framer.push(c, into(frames));
        expect(frames.map((f) => [f.code, f.size, f.raw?.length])).toEqual([
          [0x44, 8, undefined],
          [0x44, 305, undefined],
          [0x44, 5, undefined],
          [0x5a, 6, 6],
        ]);
        expect(framer.bufferedBytes).toBe(0);
      }),
    );
  });

  it('throws FrameError on an impossible length and stops, returning what it held', () => {
    const framer = new Framer('tagged');
    expect(() => framer.push(Buffer.from([0x51, 0, 0, 0, 2, 9, 9]), () => {})).toThrow(FrameError);
    expect(framer.stopped).toBe(true);
    const startup = new Framer('untagged');
    expect(() => startup.push(Buffer.from([0x16, 3, 1, 0, 0x80]), () => {})).toThrow(FrameError);
    const held = new Framer('tagged');
    held.push(Buffer.from([0x51, 0, 0]), () => {});
    expect(Buffer.concat(held.stop())).toEqual(Buffer.from([0x51, 0, 0]));
  });
});
