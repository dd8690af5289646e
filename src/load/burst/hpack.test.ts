import { describe, expect, it } from 'vitest';
import { decodeInteger, encodeHeaderBlock, encodeInteger, HpackDecoder, HpackError } from './hpack.js';
import { HUFFMAN_CODES, HuffmanError, huffmanDecode, huffmanEncode } from './hpack-huffman.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('Huffman code (RFC 7541 Appendix B)', () => {
  it('is a complete canonical prefix code: Kraft sum 1, codes consecutive per length', () => {
    let kraft = 0;
    for (const [, length] of HUFFMAN_CODES) kraft += 2 ** -length;
    expect(kraft).toBe(1);
    // canonical: sorted by (length, symbol), each code is the previous + 1, shifted to the new length
    const sorted = HUFFMAN_CODES.map(([code, length], symbol) => ({ code, length, symbol })).sort(
      (a, b) => a.length - b.length || a.symbol - b.symbol,
    );
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      const cur = sorted[i]!;
      expect(cur.code).toBe((prev.code + 1) * 2 ** (cur.length - prev.length));
    }
  });

  it('matches the RFC 7541 C.4 examples', () => {
    expect(huffmanEncode(Buffer.from('www.example.com'))).toEqual(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff'));
    expect(huffmanEncode(Buffer.from('no-cache'))).toEqual(hex('a8eb 1064 9cbf'));
    expect(huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff')).toString()).toBe('www.example.com');
  });

  it('round-trips every byte value', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(huffmanDecode(huffmanEncode(all))).toEqual(all);
    for (let n = 0; n < 20; n++) {
      const s = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) % 256));
      expect(huffmanDecode(huffmanEncode(s))).toEqual(s);
    }
  });

  it('rejects bad padding', () => {
    expect(() => huffmanDecode(Buffer.from([0x00]))).toThrow(HuffmanError); // '0' (5 bits) + 000 padding
    expect(() => huffmanDecode(Buffer.from([0xff, 0xff]))).toThrow(HuffmanError); // 16 bits of padding
  });
});

describe('HPACK integers (RFC 7541 C.1)', () => {
  it('encodes and decodes the RFC examples', () => {
    expect(encodeInteger(10, 5)).toEqual([10]);
    expect(encodeInteger(1337, 5)).toEqual([0x1f, 0x9a, 0x0a]);
    expect(encodeInteger(42, 8)).toEqual([42]);
    expect(decodeInteger(Buffer.from([0x1f, 0x9a, 0x0a]), 0, 5)).toEqual([1337, 3]);
    expect(() => decodeInteger(Buffer.from([0x1f, 0x9a]), 0, 5)).toThrow(HpackError);
  });
});

describe('HpackDecoder', () => {
  it('decodes RFC 7541 C.3 (raw) and C.4 (Huffman) request sequences, keeping the dynamic table', () => {
    for (const blocks of [
      ['8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d', '8286 84be 5808 6e6f 2d63 6163 6865'],
      ['8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff', '8286 84be 5886 a8eb 1064 9cbf'],
    ]) {
      const d = new HpackDecoder();
      expect(d.decode(hex(blocks[0]!))).toEqual([
        [':method', 'GET'],
        [':scheme', 'http'],
        [':path', '/'],
        [':authority', 'www.example.com'],
      ]);
      expect(d.dynamicSizeBytes).toBe(57);
      expect(d.decode(hex(blocks[1]!))).toEqual([
        [':method', 'GET'],
        [':scheme', 'http'],
        [':path', '/'],
        [':authority', 'www.example.com'],
        ['cache-control', 'no-cache'],
      ]);
      expect(d.dynamicSizeBytes).toBe(110);
    }
  });

  it('evicts the oldest entries, applies size updates, empties on an oversized entry', () => {
    const d = new HpackDecoder(100);
    const literal = (name: string, value: string) =>
      Buffer.concat([
        Buffer.from([0x40, name.length]),
        Buffer.from(name),
        Buffer.from([value.length]),
        Buffer.from(value),
      ]);
    d.decode(literal('a', 'x'.repeat(30))); // 63 bytes
    d.decode(literal('b', 'y')); // 34 → 97
    expect(d.dynamicSizeBytes).toBe(97);
    d.decode(literal('c', 'z')); // 34 → evicts 'a'
    expect(d.dynamicSizeBytes).toBe(68);
    expect(d.decode(Buffer.from([0xbe, 0xbf]))).toEqual([
      ['c', 'z'],
      ['b', 'y'],
    ]);
    expect(() => d.decode(Buffer.from([0xc0]))).toThrow(/beyond the dynamic table/);
    d.decode(Buffer.from([0x20])); // size update to 0 empties it
    expect(d.dynamicSizeBytes).toBe(0);
    expect(() => d.decode(Buffer.from([0x3f, 0x50]))).toThrow(/above our limit/); // 31 + 80 = 111 > 100
    d.decode(Buffer.from([0x3f, 0x45])); // back to 100
    d.decode(literal('big', 'v'.repeat(70))); // 105 > 100: table emptied, entry not added
    expect(d.dynamicSizeBytes).toBe(0);
  });

  it('decodes what encodeHeaderBlock writes, without touching the dynamic table', () => {
    const fields: Array<[string, string]> = [
      [':method', 'POST'],
      [':path', '/api/bookings?x=1'],
      ['content-type', 'application/json'],
      ['authorization', 'Bearer t'],
      ['x-long', 'v'.repeat(300)],
    ];
    const block = encodeHeaderBlock(fields);
    const d = new HpackDecoder();
    expect(d.decode(block)).toEqual(fields);
    expect(d.dynamicSizeBytes).toBe(0);
    // authorization is "never indexed" (0001xxxx) with static name index 23 → 0x1f 0x08
    expect(block.includes(Buffer.from([0x1f, 0x08]))).toBe(true);
  });
});
