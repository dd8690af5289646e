/**
 * What the PostgreSQL protocol proxy reports, as typed events (`proxy.on('step-done', (step) => …)`).
 * Records are live objects the proxy keeps updating; copy one (`JSON.parse(JSON.stringify(x))`) to keep a
 * snapshot.
 */
import type { ServerError, TxStatus } from './backend-messages.js';
import type { Step } from './step.js';

/**
 * `startup`: before the first ReadyForQuery (authentication included); `ready`: steps are followed;
 * `cancel`: the connection carried a CancelRequest; `opaque`: bytes still flow but are no longer read
 * (TLS or GSS encryption, a protocol the proxy does not follow, a stream it could not match);
 * `closed`: both sockets closed.
 */
export type ConnectionPhase = 'startup' | 'ready' | 'cancel' | 'opaque' | 'closed';

export interface PgConnectionInfo {
  /** 1-based, in accept order. */
  readonly id: number;
  phase: ConnectionPhase;
  /** PostgreSQL backend pid (from BackendKeyData). */
  backendPid?: number;
  /** Protocol version the client asked for (`3.0`), or the one the server offered instead. */
  protocol?: string;
  /** StartupMessage parameters: `user`, `database`, `application_name`, … */
  parameters: Record<string, string>;
  /** The authentication the server asked for: `sasl` (SCRAM), `md5`, `cleartext`, `trust`, … */
  auth?: string;
  /** Transaction status from the last ReadyForQuery. */
  txStatus?: TxStatus;
  /** Why the proxy stopped reading the connection (phase `opaque`). */
  opaqueReason?: string;
  /** Steps seen on this connection. */
  steps: number;
}

export interface PgProxyEvents {
  /** Startup finished (first ReadyForQuery): `backendPid` is known. */
  'connection-ready': [info: PgConnectionInfo];
  'connection-closed': [info: PgConnectionInfo];
  /** The gate held a step; `proxy.release(step)` sends it. */
  'step-held': [step: Step];
  'step-released': [step: Step];
  /** The step's result is complete (ReadyForQuery, or the answer to its last message). */
  'step-done': [step: Step];
  /** The server connection closed before the step was sent (`dropped`) or answered (`aborted`). */
  'step-lost': [step: Step];
  /** Nothing held, sent or half-received on the connection, and the server is waiting for the client. */
  idle: [info: PgConnectionInfo];
  /** A CancelRequest passed; `connectionId` is the connection whose backend it names, when known. */
  cancel: [cancel: { pid: number; connectionId?: number }];
  notification: [n: { connectionId: number; pid: number; channel: string; payload: string }];
  /** The proxy stopped reading a connection (`info.opaqueReason`); its bytes keep flowing. */
  opaque: [info: PgConnectionInfo];
  /** An ErrorResponse that answers no step (authentication failed, FATAL before a disconnection). */
  'server-error': [info: PgConnectionInfo, error: ServerError];
}
