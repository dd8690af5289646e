import { huffmanDecode } from './hpack-huffman.js';

/**
 * HPACK header compression for the HTTP/2 sender (RFC 7541).
 *
 * Decoding (server → us) is complete: indexed fields, literals with/without/never indexing, dynamic table
 * with eviction and size updates (§4, §6.3), Huffman strings (§5.2). It must be: a server compresses
 * its response headers however it likes, and one mis-decoded block desynchronizes the connection.
 *
 * Encoding (us → server) is deliberately minimal (§6.2.2, §6.2.3): every field a literal *without
 * indexing* (sensitive ones — authorization, cookie — *never indexed*), its name from the static table when
 * it is there, strings raw (no Huffman). So we never touch the server's decoder's dynamic table, and
 * the bytes of a request do not depend on the requests before it. Costs a few bytes per request; the
 * single-packet attack sends headers before the burst, so their size does not matter.
 *
 * Why not an npm package: `hpack.js` 2.1.6 (the one spdy uses) has a stream-based API and pulls in
 * readable-stream 2, obuf and wbuf; `hpack` 1.0.0 is a single release with no track record. This file and
 * `hpack-huffman.ts` are small, and their tests decode what node:http2 (nghttp2) really sends.
 */

/** RFC 7541 Appendix A. Index 1-based: `STATIC_TABLE[i - 1]`. */
export const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

export type HeaderField = readonly [name: string, value: string];

/** A header block this decoder cannot accept: a COMPRESSION_ERROR for the connection (RFC 7540 §4.3). */
export class HpackError extends Error {
  override name = 'HpackError';
}

/** Per-entry overhead counted in the dynamic table size, bytes (RFC 7541 §4.1). */
const ENTRY_OVERHEAD_BYTES = 32;

/** Decodes the header blocks of one connection, in the order they arrive (the table is shared state). */
export class HpackDecoder {
  /** Newest first, as HPACK indexes it: dynamic index 62 is `entries[0]`. */
  private entries: Array<[string, string]> = [];
  private sizeBytes = 0;
  private maxSizeBytes: number;

  /** `limitBytes`: our SETTINGS_HEADER_TABLE_SIZE (default 4096); the encoder may choose less, never more. */
  constructor(private readonly limitBytes = 4096) {
    this.maxSizeBytes = limitBytes;
  }

  decode(block: Uint8Array): HeaderField[] {
    const fields: HeaderField[] = [];
    let pos = 0;
    const int = (prefixBits: number): number => {
      const [value, next] = decodeInteger(block, pos, prefixBits);
      pos = next;
      return value;
    };
    const str = (): string => {
      if (pos >= block.length) throw new HpackError('truncated string literal');
      const huffman = (block[pos]! & 0x80) !== 0;
      const length = int(7);
      if (pos + length > block.length) throw new HpackError('string literal past the end of the block');
      const raw = block.subarray(pos, pos + length);
      pos += length;
      return (huffman ? huffmanDecode(raw) : Buffer.from(raw)).toString('latin1');
    };
    let fieldSeen = false;
    while (pos < block.length) {
      const b = block[pos]!;
      if (b & 0x80) {
        // 6.1 indexed header field
        const index = int(7);
        if (index === 0) throw new HpackError('indexed field with index 0');
        fields.push(this.lookup(index));
        fieldSeen = true;
      } else if (b & 0x40) {
        // 6.2.1 literal with incremental indexing
        const index = int(6);
        const name = index ? this.lookup(index)[0] : str();
        const value = str();
        fields.push([name, value]);
        this.insert(name, value);
        fieldSeen = true;
      } else if (b & 0x20) {
        // 6.3 dynamic table size update: only at the start of a block (§4.2)
        if (fieldSeen) throw new HpackError('table size update after a header field');
        const size = int(5);
        if (size > this.limitBytes)
          throw new HpackError(`table size ${size} above our limit ${this.limitBytes}`);
        this.maxSizeBytes = size;
        this.evict();
      } else {
        // 6.2.2 without indexing (0000) / 6.2.3 never indexed (0001)
        const index = int(4);
        const name = index ? this.lookup(index)[0] : str();
        fields.push([name, str()]);
        fieldSeen = true;
      }
    }
    return fields;
  }

  /** Current dynamic table size, bytes (for tests). */
  get dynamicSizeBytes(): number {
    return this.sizeBytes;
  }

  private lookup(index: number): HeaderField {
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
    const entry = this.entries[index - STATIC_TABLE.length - 1];
    if (!entry) throw new HpackError(`index ${index} beyond the dynamic table`);
    return entry;
  }

  private insert(name: string, value: string): void {
    const size = entrySize(name, value);
    // §4.4: an entry larger than the table empties it and is not added.
    this.entries.unshift([name, value]);
    this.sizeBytes += size;
    this.evict();
  }

  private evict(): void {
    while (this.sizeBytes > this.maxSizeBytes) {
      const [name, value] = this.entries.pop()!;
      this.sizeBytes -= entrySize(name, value);
    }
  }
}

function entrySize(name: string, value: string): number {
  return Buffer.byteLength(name, 'latin1') + Buffer.byteLength(value, 'latin1') + ENTRY_OVERHEAD_BYTES;
}

/** RFC 7541 §5.1: an integer with an N-bit prefix at `pos`; returns [value, position after it]. */
export function decodeInteger(bytes: Uint8Array, pos: number, prefixBits: number): [number, number] {
  if (pos >= bytes.length) throw new HpackError('truncated integer');
  const max = (1 << prefixBits) - 1;
  let value = bytes[pos]! & max;
  pos++;
  if (value < max) return [value, pos];
  let shift = 0;
  for (;;) {
    if (pos >= bytes.length) throw new HpackError('truncated integer');
    const b = bytes[pos++]!;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (value > 2 ** 32) throw new HpackError('integer overflow');
    if ((b & 0x80) === 0) return [value, pos];
  }
}

/** RFC 7541 §5.1: encode `value` with an N-bit prefix, OR-ing `firstByteFlags` into the first byte. */
export function encodeInteger(value: number, prefixBits: number, firstByteFlags = 0): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [firstByteFlags | value];
  const out = [firstByteFlags | max];
  let rest = value - max;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return out;
}

/** Headers whose values must never enter any compression table (RFC 7541 §7.1.3). */
const NEVER_INDEXED = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** First static index of each name, for literal fields with an indexed name. */
const STATIC_NAME_INDEX = new Map<string, number>();
STATIC_TABLE.forEach(([name], i) => {
  if (!STATIC_NAME_INDEX.has(name)) STATIC_NAME_INDEX.set(name, i + 1);
});

/**
 * Encode a header list as literals without indexing / never indexed, raw strings (see the file comment).
 * Names must already be lower case (RFC 9113 §8.2.1).
 */
export function encodeHeaderBlock(fields: readonly HeaderField[]): Buffer {
  const out: number[] = [];
  const pushString = (s: string) => {
    const bytes = Buffer.from(s, 'latin1');
    out.push(...encodeInteger(bytes.length, 7, 0x00));
    for (const b of bytes) out.push(b);
  };
  for (const [name, value] of fields) {
    const flags = NEVER_INDEXED.has(name) ? 0x10 : 0x00;
    const index = STATIC_NAME_INDEX.get(name);
    if (index) {
      out.push(...encodeInteger(index, 4, flags));
    } else {
      out.push(flags);
      pushString(name);
    }
    pushString(value);
  }
  return Buffer.from(out);
}
