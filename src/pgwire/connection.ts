/**
 * One proxied client connection and its connection to the server.
 *
 * ```
 *  client ─► frontend framer ─► startup packets / auth ──────────────────────────► server
 *                          └─► step messages ─► step ─► gate ─► (held) ─► release ─►
 *  client ◄──────────── every chunk as received, at once (or kept while answers are held) ◄── server
 *                                 └─► backend framer ─► response tracker ─► step done, idle
 * ```
 *
 * Byte-exact: what goes to the server is the client's bytes in the client's order, cut only at message
 * boundaries (held steps delay their bytes, never change them); what goes to the client is every chunk
 * from the server, forwarded before it is read. The proxy answers a client itself only for an
 * SSLRequest/GSSENCRequest with `ssl: 'refuse'` (one byte, 'N').
 *
 * Closing follows the sockets: the client's end (FIN, or a close) reaches the server after every byte
 * queued before it — held steps too, once released; the server's end reaches the client after its bytes,
 * and a reset from the server resets the client. Steps still queued or held when the server goes are
 * `dropped`, steps sent but unanswered are `aborted`.
 */
import type { Socket } from 'node:net';
import { closeAfterWrites } from '../faults/connection.js';
import { Backend, decodeBackend, keepBackendBody } from './backend-messages.js';
import type { ConnectionPhase, PgConnectionInfo, PgProxyEvents } from './events.js';
import { FrameError, Framer, type OnFrame } from './frame.js';
import { decodeStartupPacket, Frontend } from './frontend-messages.js';
import type { GateDecision, StepGate } from './gate.js';
import { Outbound, type OutgoingStep } from './outbound.js';
import { Desync, ResponseTracker } from './responses.js';
import { rewriteFrontendSql, type SqlRewrite } from './sql-rewrite.js';
import {
  boundaryOf,
  isStepMessage,
  StatementRegistry,
  type Step,
  type StepBoundary,
  StepBuilder,
} from './step.js';

export interface ConnectionHost {
  clock(): number;
  nextStepId(): number;
  readonly gate: StepGate;
  readonly ssl: 'pass' | 'refuse';
  /** Keep the server's bytes (once startup is over) until `deliverAnswers()`: see `StartedPgProxy.holdAnswers`. */
  readonly holdAnswers: boolean;
  /** Replaces the SQL of Query and Parse messages (`sql-rewrite.ts`); undefined: bytes pass exactly. */
  readonly rewriteSql: SqlRewrite | undefined;
  emit<E extends keyof PgProxyEvents>(event: E, ...args: PgProxyEvents[E]): void;
  /** A gate threw (a bug in it): the step was released. */
  onError(error: unknown): void;
  /** The open connection whose backend has this pid (for CancelRequest). */
  connectionIdOfPid(pid: number): number | undefined;
}

export class PgConnection {
  readonly info: PgConnectionInfo;
  /** Resolves when both sockets are closed. */
  readonly closed: Promise<void>;
  #front = new Framer('untagged');
  #back = new Framer('tagged', { keepBody: keepBackendBody });
  #registry = new StatementRegistry();
  #tracker: ResponseTracker;
  #open: StepBuilder | undefined;
  #out: Outbound;
  #rawFrontend = false;
  #tracking = true;
  #awaiting: 'ssl-request' | 'gssenc-request' | undefined;
  #idle = false;
  #firstChunk = true;
  #serverGone = false;
  #clientEnded = false;
  #clientDrainWait = false;
  /** Server bytes kept for the client while the host holds answers, in arrival order. */
  #answer: Buffer[] = [];

  constructor(
    id: number,
    readonly client: Socket,
    readonly server: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.info = { id, phase: 'startup', parameters: {}, steps: 0 };
    this.#tracker = new ResponseTracker({
      clock: () => host.clock(),
      done: (run) => host.emit('step-done', run.step),
    });
    const closedOne = (s: Socket) => new Promise<void>((r) => (s.closed ? r() : s.once('close', () => r())));
    this.closed = Promise.all([closedOne(client), closedOne(server)]).then(() => {
      this.#setPhase('closed');
      host.emit('connection-closed', this.info);
    });
    client.on('data', (b: Buffer) => this.#onClientData(b));
    client.on('end', () => this.#onClientEnd());
    client.on('close', () => this.#onClientEnd());
    client.on('error', () => {});
    this.#out = new Outbound(client, server, {
      decide: (step) => this.#decide(step),
      held: (step) => host.emit('step-held', step),
      sent: (item) => this.#sent(item),
      dropped: (step) => {
        step.state = 'dropped';
        host.emit('step-lost', step);
      },
      copyEnded: (code) => {
        if (this.#tracking) this.#tracker.copyEnd(code);
      },
    });
    server.on('data', (b: Buffer) => this.#onServerData(b));
    server.on('end', () => this.#onServerGone(false));
    server.on('close', (hadError) => this.#onServerGone(hadError));
    server.on('error', () => {});
  }

  /** The step the gate holds on this connection, if any (at most one: steps go in order). */
  get held(): Step | undefined {
    return this.#out.held;
  }

  /** Steps sent and not yet answered, oldest first. */
  get running(): Step[] {
    return this.#tracker.pendingSteps();
  }

  get idle(): boolean {
    return this.#idle;
  }

  /** Send the held step. @throws Error when `step` is not this connection's held step. */
  release(step: Step): void {
    this.#out.release(step);
    this.#checkIdle();
  }

  /** Bytes from the server kept for the client (answers held). */
  get heldAnswerBytes(): number {
    let n = 0;
    for (const b of this.#answer) n += b.length;
    return n;
  }

  /** Write the server bytes kept for the client, in order. Returns how many bytes. */
  deliverAnswers(): number {
    const chunks = this.#answer;
    this.#answer = [];
    let n = 0;
    for (const c of chunks) {
      n += c.length;
      this.#writeClient(c);
    }
    return n;
  }

  /** Drop both sockets now (proxy shutdown). */
  destroy(): void {
    this.client.destroy();
    this.server.destroy();
  }

  #onClientData(chunk: Buffer): void {
    if (this.#firstChunk) {
      this.#firstChunk = false;
      // A TLS ClientHello without SSLRequest (PostgreSQL 17's sslnegotiation=direct).
      if (chunk[0] === 0x16) this.#stopReading('direct TLS (no SSLRequest)');
    }
    if (this.#rawFrontend) this.#out.push({ kind: 'bytes', chunks: [chunk] });
    else {
      try {
        this.#front.push(chunk, this.#onFrontendFrame);
      } catch (error) {
        if (!(error instanceof FrameError)) throw error;
        this.#stopReading(`client: ${error.message}`);
      }
    }
    this.#pump();
  }

  readonly #onFrontendFrame: OnFrame = (code, raw) =>
    code === 0 ? this.#onStartupPacket(raw!) : this.#onFrontend(raw!);

  readonly #onBackendFrame: OnFrame = (code, raw, _size, oneByte) => {
    if (oneByte) this.#onOneByteReply(code);
    // The common case, once per row: no decoding, no object.
    else if (code === Backend.DataRow && this.info.phase === 'ready') this.#tracker.dataRow();
    else this.#onBackend(code, raw);
  };

  #onStartupPacket(raw: Buffer): void {
    const p = decodeStartupPacket(raw);
    switch (p.kind) {
      case 'ssl-request':
      case 'gssenc-request':
        if (this.host.ssl === 'refuse') {
          this.#writeClient(Buffer.from('N'));
          return;
        }
        this.#out.push({ kind: 'bytes', chunks: [raw] });
        this.#awaiting = p.kind;
        this.#back.mode = 'one-byte';
        return;
      case 'cancel':
        this.#out.push({ kind: 'bytes', chunks: [raw] });
        this.#setPhase('cancel');
        this.#tracking = false;
        this.#back.stop();
        this.host.emit('cancel', { pid: p.pid, connectionId: this.host.connectionIdOfPid(p.pid) });
        this.#toRawFrontend();
        return;
      case 'startup':
        this.#out.push({ kind: 'bytes', chunks: [raw] });
        this.info.protocol = `${p.major}.${p.minor}`;
        this.info.parameters = p.parameters;
        this.#front.mode = 'tagged';
        return;
      default:
        this.#out.push({ kind: 'bytes', chunks: [raw] });
        this.#stopReading(`startup packet with request code ${p.code}`);
    }
  }

  #onFrontend(message: Buffer): void {
    const rewrite = this.host.rewriteSql;
    const raw = rewrite ? rewriteFrontendSql(message, rewrite) : message;
    const code = raw[0]!;
    if (isStepMessage(code)) {
      this.#open ??= new StepBuilder(this.host.clock(), this.#registry);
      this.#open.add(raw);
      const boundary = boundaryOf(code);
      if (boundary) this.#closeStep(boundary);
      return;
    }
    const copyEnd = code === Frontend.CopyDone || code === Frontend.CopyFail;
    if (this.#open && (copyEnd || code === Frontend.CopyData)) this.#closeStep('copy');
    else this.#openAsBytes();
    this.#out.push({ kind: 'bytes', chunks: [raw], copyEnd: copyEnd ? code : undefined });
  }

  #closeStep(boundary: StepBoundary): void {
    const b = this.#open!;
    this.#open = undefined;
    this.info.steps++;
    const step = b.build({
      id: this.host.nextStepId(),
      connectionId: this.info.id,
      backendPid: this.info.backendPid,
      seq: this.info.steps,
      boundary,
      readyAtMs: this.host.clock(),
    });
    this.#out.push({ kind: 'step', run: { step, pending: 0 }, chunks: b.chunks, codes: b.codes });
  }

  /** An unfinished batch cut by a message that is not part of steps goes as plain bytes. */
  #openAsBytes(): void {
    if (!this.#open) return;
    this.#out.push({ kind: 'bytes', chunks: this.#open.chunks });
    this.#open = undefined;
  }

  #pump(): void {
    this.#out.pump();
    this.#checkIdle();
  }

  #decide(step: Step): GateDecision {
    try {
      return this.host.gate.admit(step);
    } catch (error) {
      this.host.onError(error);
      return 'release';
    }
  }

  #sent(item: OutgoingStep): void {
    const step = item.run.step;
    step.state = 'running';
    step.timing.releasedAtMs = this.host.clock();
    this.host.emit('step-released', step);
    if (!this.#tracking) return;
    if (this.#tracker.register(item.run, item.codes)) {
      step.state = 'done';
      step.timing.doneAtMs = this.host.clock();
      this.host.emit('step-done', step);
    }
  }

  #writeClient(b: Buffer): void {
    if (this.client.destroyed || this.client.writableEnded) return;
    if (!this.client.write(b) && !this.#clientDrainWait) {
      this.#clientDrainWait = true;
      this.server.pause();
      this.client.once('drain', () => {
        this.#clientDrainWait = false;
        this.server.resume();
      });
    }
  }

  #onClientEnd(): void {
    if (this.#clientEnded) return;
    this.#clientEnded = true;
    // Unfinished messages go as they are: the server sees what the client sent before it left.
    this.#openAsBytes();
    const rest = this.#front.stop();
    if (rest.length) this.#out.push({ kind: 'bytes', chunks: rest });
    this.#out.push({ kind: 'end' });
    this.#pump();
  }

  #onServerData(chunk: Buffer): void {
    // Startup always flows; after it, answers wait for the scheduler while the host holds them.
    if (this.host.holdAnswers && this.info.phase === 'ready' && this.#tracking) this.#answer.push(chunk);
    else {
      if (this.#answer.length) this.deliverAnswers();
      this.#writeClient(chunk);
    }
    if (!this.#tracking) return;
    try {
      this.#back.push(chunk, this.#onBackendFrame);
    } catch (error) {
      if (!(error instanceof FrameError || error instanceof Desync)) throw error;
      this.#stopReading(`server: ${error.message}`);
    }
    this.#checkIdle();
  }

  #onOneByteReply(code: number): void {
    const asked = this.#awaiting;
    this.#awaiting = undefined;
    this.#back.mode = 'tagged';
    if (code === 0x4e) return; // 'N': the client goes on in plain text
    this.#stopReading(
      asked === 'ssl-request'
        ? 'TLS: the server accepted SSLRequest'
        : 'GSS encryption: the server accepted it',
    );
  }

  #onBackend(code: number, raw: Buffer | undefined): void {
    const msg = decodeBackend(code, raw);
    if (this.info.phase === 'startup') {
      switch (msg.type) {
        case 'Authentication':
          if (msg.method === 'ok') this.info.auth ??= 'trust';
          else if (!/-(continue|final)$/.test(msg.method)) this.info.auth ??= msg.method;
          break;
        case 'BackendKeyData':
          this.info.backendPid = msg.pid;
          break;
        case 'NegotiateProtocolVersion':
          this.info.protocol = `3.${msg.newestMinor}`;
          break;
        case 'ErrorResponse':
          this.host.emit('server-error', this.info, msg.error);
          break;
        case 'ReadyForQuery':
          this.#tracker.txStatus = msg.status;
          this.info.txStatus = msg.status;
          this.#setPhase('ready');
          this.host.emit('connection-ready', this.info);
          break;
      }
      return;
    }
    if (msg.type === 'NotificationResponse') {
      const { pid, channel, payload } = msg;
      this.host.emit('notification', { connectionId: this.info.id, pid, channel, payload });
      return;
    }
    if (code === Backend.CopyBothResponse) {
      this.#stopReading('COPY BOTH (streaming replication)');
      return;
    }
    const { orphanError } = this.#tracker.onBackend(code, msg);
    if (orphanError?.type === 'ErrorResponse') this.host.emit('server-error', this.info, orphanError.error);
    if (msg.type === 'ReadyForQuery') this.info.txStatus = msg.status;
  }

  #onServerGone(hadError: boolean): void {
    // What the server said before it left reaches the client first.
    if (this.#answer.length) this.deliverAnswers();
    if (!this.#serverGone) {
      this.#serverGone = true;
      for (const step of this.#tracker.pendingSteps()) {
        if (step.state !== 'running') continue;
        step.state = 'aborted';
        this.host.emit('step-lost', step);
      }
      this.#open = undefined;
      this.#out.serverGone();
    }
    if (this.client.destroyed) return;
    if (hadError) this.client.resetAndDestroy();
    else if (this.server.destroyed) closeAfterWrites(this.client);
    else if (!this.client.writableEnded) this.client.end();
  }

  /** Stop reading the connection; its bytes keep flowing both ways. */
  #stopReading(reason: string): void {
    if (this.#tracking) {
      this.#tracking = false;
      this.info.opaqueReason = reason;
      this.#setPhase('opaque');
      this.host.emit('opaque', this.info);
    }
    this.#back.stop();
    this.#toRawFrontend();
  }

  #toRawFrontend(): void {
    if (this.#rawFrontend) return;
    this.#rawFrontend = true;
    this.#openAsBytes();
    const rest = this.#front.stop();
    if (rest.length) this.#out.push({ kind: 'bytes', chunks: rest });
  }

  #setPhase(phase: ConnectionPhase): void {
    if (this.info.phase === 'closed') return;
    if (this.info.phase === 'opaque' && phase !== 'closed') return;
    this.info.phase = phase;
  }

  #checkIdle(): void {
    const idle =
      this.info.phase === 'ready' &&
      this.#out.empty &&
      !this.#open &&
      this.#front.bufferedBytes === 0 &&
      this.#tracker.empty;
    if (idle && !this.#idle) {
      this.#idle = true;
      this.host.emit('idle', this.info);
    } else if (!idle) this.#idle = false;
  }
}
