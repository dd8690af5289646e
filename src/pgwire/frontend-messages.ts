/**
 * Decoding the messages a PostgreSQL *client* sends (frontend messages), from whole frames
 * (`frame.ts`). pg-protocol, node-postgres' protocol package, only serializes these (the client side
 * writes them) and has no parser for them; a proxy has to read them, so they are decoded here.
 *
 * Only what a step record needs is decoded (statement text, names, parameters); everything else is
 * forwarded as bytes. Sources: PostgreSQL documentation, "Frontend/Backend Protocol" → "Message Formats".
 */

/** Type bytes of frontend messages (PostgreSQL docs, "Message Formats"). */
export const Frontend = {
  Bind: 0x42, // B
  Close: 0x43, // C
  Describe: 0x44, // D
  Execute: 0x45, // E
  FunctionCall: 0x46, // F
  Flush: 0x48, // H
  Parse: 0x50, // P
  Query: 0x51, // Q
  Sync: 0x53, // S
  Terminate: 0x58, // X
  CopyDone: 0x63, // c
  CopyData: 0x64, // d
  CopyFail: 0x66, // f
  /** PasswordMessage, SASLInitialResponse, SASLResponse, GSSResponse: all 'p'. */
  Password: 0x70, // p
} as const;

const NAMES = new Map<number, string>(Object.entries(Frontend).map(([k, v]) => [v, k]));

/** Readable name of a frontend type byte (`Parse`, `Sync`, …, or `'?'` for an unknown one). */
export function frontendName(code: number): string {
  return NAMES.get(code) ?? `'${String.fromCharCode(code)}'`;
}

/** Request codes of the untagged packets a client may open a connection with. */
export const StartupCode = {
  /** Protocol 3.0 (196608); 3.2 is 196610. The major version is the high 16 bits. */
  protocol3: 3 << 16,
  CancelRequest: 80877102,
  SSLRequest: 80877103,
  GSSENCRequest: 80877104,
} as const;

/** An untagged packet at the start of a connection. */
export type StartupPacket =
  | { kind: 'ssl-request' }
  | { kind: 'gssenc-request' }
  /** Backend pid and secret key (4 bytes before protocol 3.2, up to 256 bytes after), key as hex. */
  | { kind: 'cancel'; pid: number; keyHex: string }
  | { kind: 'startup'; major: number; minor: number; parameters: Record<string, string> }
  | { kind: 'unknown'; code: number };

/** Decode an untagged packet (`raw`: length + code + body). */
export function decodeStartupPacket(raw: Buffer): StartupPacket {
  const code = raw.readInt32BE(4);
  if (code === StartupCode.SSLRequest) return { kind: 'ssl-request' };
  if (code === StartupCode.GSSENCRequest) return { kind: 'gssenc-request' };
  if (code === StartupCode.CancelRequest) {
    return { kind: 'cancel', pid: raw.readInt32BE(8), keyHex: raw.subarray(12).toString('hex') };
  }
  const major = code >>> 16;
  if (major !== 3) return { kind: 'unknown', code };
  const parameters: Record<string, string> = {};
  const r = new Reader(raw, 8);
  for (;;) {
    const name = r.cstring();
    if (name === '' || r.done) break;
    parameters[name] = r.cstring();
  }
  return { kind: 'startup', major, minor: code & 0xffff, parameters };
}

/** One parameter value of a Bind: text-format values as text, binary ones as hex; null is SQL NULL. */
export type ParamValue = { format: 'text'; value: string } | { format: 'binary'; hex: string } | null;

export type FrontendMessage =
  | { type: 'Query'; sql: string }
  | { type: 'Parse'; statement: string; sql: string; paramTypes: number[] }
  | {
      type: 'Bind';
      portal: string;
      statement: string;
      params: ParamValue[];
      /** Result-column format codes as sent (0 text, 1 binary); empty means all text. */
      resultFormats: number[];
    }
  | { type: 'Describe'; target: 'statement' | 'portal'; name: string }
  /** `maxRows` 0 means no limit. */
  | { type: 'Execute'; portal: string; maxRows: number }
  | { type: 'Close'; target: 'statement' | 'portal'; name: string }
  | { type: 'Sync' }
  | { type: 'Flush' }
  | { type: 'Terminate' }
  | { type: 'CopyData'; bytes: number }
  | { type: 'CopyDone' }
  | { type: 'CopyFail'; message: string }
  | { type: 'FunctionCall'; functionOid: number; args: ParamValue[] }
  | { type: 'Password' }
  | { type: 'Unknown'; code: number };

/** Decode a whole tagged frontend message (`raw`: type byte + length + body). */
export function decodeFrontend(raw: Buffer): FrontendMessage {
  const code = raw[0]!;
  const r = new Reader(raw, 5);
  switch (code) {
    case Frontend.Query:
      return { type: 'Query', sql: r.cstring() };
    case Frontend.Parse: {
      const statement = r.cstring();
      const sql = r.cstring();
      const n = r.int16();
      const paramTypes: number[] = [];
      for (let i = 0; i < n; i++) paramTypes.push(r.uint32());
      return { type: 'Parse', statement, sql, paramTypes };
    }
    case Frontend.Bind: {
      const portal = r.cstring();
      const statement = r.cstring();
      const formats = r.int16s();
      const params = r.values(formats);
      return { type: 'Bind', portal, statement, params, resultFormats: r.int16s() };
    }
    case Frontend.Describe:
    case Frontend.Close: {
      const target = r.byte() === 0x53 ? 'statement' : 'portal';
      const name = r.cstring();
      return code === Frontend.Describe
        ? { type: 'Describe', target, name }
        : { type: 'Close', target, name };
    }
    case Frontend.Execute:
      return { type: 'Execute', portal: r.cstring(), maxRows: r.int32() };
    case Frontend.Sync:
      return { type: 'Sync' };
    case Frontend.Flush:
      return { type: 'Flush' };
    case Frontend.Terminate:
      return { type: 'Terminate' };
    case Frontend.CopyData:
      return { type: 'CopyData', bytes: raw.length - 5 };
    case Frontend.CopyDone:
      return { type: 'CopyDone' };
    case Frontend.CopyFail:
      return { type: 'CopyFail', message: r.cstring() };
    case Frontend.FunctionCall: {
      const functionOid = r.uint32();
      const formats = r.int16s();
      return { type: 'FunctionCall', functionOid, args: r.values(formats) };
    }
    case Frontend.Password:
      return { type: 'Password' };
    default:
      return { type: 'Unknown', code };
  }
}

/** Bounds-checked reads; a truncated body reads as empty values rather than throwing. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    private offset: number,
  ) {}

  get done(): boolean {
    return this.offset >= this.buf.length;
  }

  byte(): number {
    return this.offset < this.buf.length ? this.buf[this.offset++]! : 0;
  }

  int16(): number {
    if (this.offset + 2 > this.buf.length) return 0;
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  int32(): number {
    if (this.offset + 4 > this.buf.length) return 0;
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  uint32(): number {
    if (this.offset + 4 > this.buf.length) return 0;
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  int16s(): number[] {
    const n = this.int16();
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.int16());
    return out;
  }

  cstring(): string {
    let end = this.buf.indexOf(0, this.offset);
    if (end < 0) end = this.buf.length;
    const s = this.buf.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return s;
  }

  /** A count, then that many length-prefixed values (−1: NULL), formats applied as Bind defines. */
  values(formats: number[]): ParamValue[] {
    const n = this.int16();
    const out: ParamValue[] = [];
    for (let i = 0; i < n; i++) {
      const len = this.int32();
      if (len < 0) {
        out.push(null);
        continue;
      }
      const end = Math.min(this.offset + len, this.buf.length);
      const bytes = this.buf.subarray(this.offset, end);
      this.offset = end;
      // No codes: all text; one code: applies to every value; else one code per value.
      const format = formats.length === 0 ? 0 : formats.length === 1 ? formats[0] : formats[i];
      out.push(
        format === 1
          ? { format: 'binary', hex: bytes.toString('hex') }
          : { format: 'text', value: bytes.toString() },
      );
    }
    return out;
  }
}
