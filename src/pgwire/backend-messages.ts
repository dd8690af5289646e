/**
 * Decoding the messages PostgreSQL sends (backend messages) that a step record needs, from whole frames
 * (`frame.ts`). The decoding itself is node-postgres' own parser (`pg-protocol`), fed one frame at a time;
 * only NegotiateProtocolVersion ('v', which pg-protocol does not know) and authentication requests it
 * rejects (GSS, SSPI) are read here.
 *
 * Messages whose content no step needs (DataRow, RowDescription, CopyData, ParseComplete …) are not
 * decoded at all: their type byte says everything (`keepBackendBody`).
 */
import type { BackendKeyDataMessage, DatabaseError } from 'pg-protocol/dist/messages.js';
import { Parser } from 'pg-protocol/dist/parser.js';

/** Type bytes of backend messages (PostgreSQL docs, "Message Formats"). */
export const Backend = {
  ParseComplete: 0x31, // 1
  BindComplete: 0x32, // 2
  CloseComplete: 0x33, // 3
  NotificationResponse: 0x41, // A
  CommandComplete: 0x43, // C
  DataRow: 0x44, // D
  ErrorResponse: 0x45, // E
  CopyInResponse: 0x47, // G
  CopyOutResponse: 0x48, // H
  EmptyQueryResponse: 0x49, // I
  BackendKeyData: 0x4b, // K
  NoticeResponse: 0x4e, // N
  Authentication: 0x52, // R
  ParameterStatus: 0x53, // S
  RowDescription: 0x54, // T
  FunctionCallResponse: 0x56, // V
  CopyBothResponse: 0x57, // W
  ReadyForQuery: 0x5a, // Z
  CopyDone: 0x63, // c
  CopyData: 0x64, // d
  NoData: 0x6e, // n
  PortalSuspended: 0x73, // s
  ParameterDescription: 0x74, // t
  NegotiateProtocolVersion: 0x76, // v
} as const;

const DECODED = new Set<number>([
  Backend.Authentication,
  Backend.BackendKeyData,
  Backend.ParameterStatus,
  Backend.NotificationResponse,
  Backend.ErrorResponse,
  Backend.ReadyForQuery,
  Backend.CommandComplete,
  Backend.NegotiateProtocolVersion,
]);

/** Whether the proxy needs the body of this backend message (the framer skips the others' bodies). */
export function keepBackendBody(code: number): boolean {
  return DECODED.has(code);
}

/** Transaction status from ReadyForQuery: idle, in a transaction block, in a failed transaction block. */
export type TxStatus = 'I' | 'T' | 'E';

/** The fields of an ErrorResponse a step record keeps (SQLSTATE: `40P01` deadlock, `40001` serialization). */
export interface ServerError {
  sqlstate: string;
  severity: string;
  message: string;
  detail?: string;
  constraint?: string;
}

export type BackendMessage =
  | { type: 'Authentication'; method: string }
  | { type: 'BackendKeyData'; pid: number; keyHex: string }
  | { type: 'ParameterStatus'; name: string; value: string }
  | { type: 'NotificationResponse'; pid: number; channel: string; payload: string }
  | { type: 'ErrorResponse'; error: ServerError }
  | { type: 'ReadyForQuery'; status: TxStatus }
  | { type: 'CommandComplete'; tag: string }
  | { type: 'NegotiateProtocolVersion'; newestMinor: number; unrecognized: string[] }
  /** A message whose body is not decoded: its type byte only. */
  | { type: 'Other'; code: number };

const AUTH_METHODS: Record<number, string> = {
  0: 'ok',
  2: 'kerberos-v5',
  3: 'cleartext',
  5: 'md5',
  7: 'gss',
  8: 'gss-continue',
  9: 'sspi',
  10: 'sasl',
  11: 'sasl-continue',
  12: 'sasl-final',
};

let parser = new Parser();

/** Decode one whole backend frame (`raw` as the framer kept it; `code` alone when its body was skipped). */
export function decodeBackend(code: number, raw: Buffer | undefined): BackendMessage {
  if (!raw || !DECODED.has(code)) return { type: 'Other', code };
  switch (code) {
    case Backend.Authentication: {
      const method = AUTH_METHODS[raw.readInt32BE(5)] ?? `code-${raw.readInt32BE(5)}`;
      return { type: 'Authentication', method };
    }
    case Backend.BackendKeyData: {
      const m = viaPgProtocol(raw) as BackendKeyDataMessage;
      return { type: 'BackendKeyData', pid: m.processID, keyHex: raw.subarray(9).toString('hex') };
    }
    case Backend.NegotiateProtocolVersion: {
      const newestMinor = raw.readInt32BE(5);
      const n = raw.readInt32BE(9);
      const unrecognized: string[] = [];
      let at = 13;
      for (let i = 0; i < n && at < raw.length; i++) {
        const end = raw.indexOf(0, at);
        unrecognized.push(raw.toString('utf8', at, end < 0 ? raw.length : end));
        at = end < 0 ? raw.length : end + 1;
      }
      return { type: 'NegotiateProtocolVersion', newestMinor, unrecognized };
    }
  }
  const m = viaPgProtocol(raw);
  switch (m.name) {
    case 'parameterStatus': {
      const p = m as unknown as { parameterName: string; parameterValue: string };
      return { type: 'ParameterStatus', name: p.parameterName, value: p.parameterValue };
    }
    case 'notification': {
      const n = m as unknown as { processId: number; channel: string; payload: string };
      return { type: 'NotificationResponse', pid: n.processId, channel: n.channel, payload: n.payload };
    }
    case 'error': {
      const e = m as DatabaseError;
      const error: ServerError = { sqlstate: e.code ?? '', severity: e.severity ?? '', message: e.message };
      if (e.detail) error.detail = e.detail;
      if (e.constraint) error.constraint = e.constraint;
      return { type: 'ErrorResponse', error };
    }
    case 'readyForQuery':
      return { type: 'ReadyForQuery', status: (m as unknown as { status: TxStatus }).status };
    case 'commandComplete':
      return { type: 'CommandComplete', tag: (m as unknown as { text: string }).text };
    default:
      return { type: 'Other', code };
  }
}

/** Rows a CommandComplete tag reports (`INSERT 0 3` → 3, `UPDATE 2` → 2); undefined for tags without a count. */
export function rowsOfTag(tag: string): number | undefined {
  const m = /\s(\d+)$/.exec(tag);
  return m ? Number(m[1]) : undefined;
}

function viaPgProtocol(raw: Buffer): { name: string } {
  let out: { name: string } | undefined;
  try {
    parser.parse(raw, (msg) => {
      out = msg;
    });
  } catch (error) {
    parser = new Parser(); // its buffer state is undefined after a throw
    throw error;
  }
  if (!out) throw new Error(`pg-protocol returned no message for a whole frame of ${raw.length} bytes`);
  return out;
}
