/**
 * A step: what the server executes between two points where the client waits for it.
 *
 * - A simple `Query` is one step, even when it holds several statements (`BEGIN; UPDATE …; COMMIT`):
 *   the server runs them back to back without reading from the client again, so nothing can be
 *   scheduled between them without rewriting the query. Its statements are listed one by one, and so are
 *   their results.
 * - In the extended protocol, a batch up to and including `Sync` (node-postgres sends
 *   Parse/Bind/Describe/Execute/Sync per query), or up to and including `Flush`: a client that sends
 *   Flush waits for what it asked so far (pg-cursor reads a page with Execute/Flush), so Flush ends a
 *   step too. Such a step has no ReadyForQuery; it is done when the last message in it is answered.
 * - A `FunctionCall` is a step of its own.
 * - A batch cut short by COPY data (`Execute` then CopyData without a Sync between) ends where the
 *   data starts; the data itself is never held (it belongs to the step already running).
 *
 * Steps of one connection go to the server in the order the client sent them. A step record is plain
 * data that the proxy updates in place as the step moves on (`state`, `results`, `timing`); copy it
 * (`structuredClone`) to keep a snapshot.
 */
import type { ServerError, TxStatus } from './backend-messages.js';
import { Frontend, type FrontendMessage, frontendName, type ParamValue } from './frontend-messages.js';
import { normalizeSql } from './sql-text.js';

/**
 * `queued`: complete at the proxy, behind an earlier step of its connection; `held`: the gate holds it;
 * `running`: forwarded, its result not complete; `done`: result complete; `dropped`: never forwarded (the
 * server connection closed first); `aborted`: forwarded, but the server connection closed before its
 * result was complete.
 */
export type StepState = 'queued' | 'held' | 'running' | 'done' | 'dropped' | 'aborted';

/** What ended the step at the proxy. */
export type StepBoundary = 'query' | 'sync' | 'flush' | 'function-call' | 'copy';

export interface StepStatement {
  /** `query`: in a simple Query; `execute`: an Execute of a portal; `parse`: prepared, not executed here. */
  via: 'query' | 'execute' | 'parse' | 'function-call';
  /** Normalized SQL, literals kept (`sql-text.ts`). */
  text: string;
  /** Normalized SQL, literals replaced by `$k`. */
  shape: string;
  /** Prepared-statement name ('' is the unnamed statement), extended protocol only. */
  statement?: string;
  /** Bind parameters, in order (`ParamValue`: text as text, binary as hex, NULL as null). */
  params?: ParamValue[];
}

export type StepResult =
  /** CommandComplete: its tag (`UPDATE 3`), the command word, the rows the tag counts, DataRows seen. */
  | { kind: 'command'; tag: string; command: string; rows?: number; dataRows: number }
  /** PortalSuspended: an Execute with a row limit stopped after `dataRows`. */
  | { kind: 'suspended'; dataRows: number }
  /** EmptyQueryResponse. */
  | { kind: 'empty' }
  | { kind: 'error'; error: ServerError };

/** Times in ms on the proxy's clock (`performance.now()` unless injected). */
export interface StepTiming {
  /** The step's first message complete at the proxy. */
  arrivedAtMs: number;
  /** The step's last message at the proxy (complete; handed to the gate when first in line). */
  readyAtMs: number;
  releasedAtMs?: number;
  firstResponseAtMs?: number;
  doneAtMs?: number;
}

export interface Step {
  /** Proxy-wide, 1-based, in the order steps became complete at the proxy. */
  readonly id: number;
  /** The proxy's connection id (1-based, accept order). */
  readonly connectionId: number;
  /** PostgreSQL's backend pid for the connection (BackendKeyData). */
  readonly backendPid: number | undefined;
  /** 1-based position among its connection's steps. */
  readonly seq: number;
  readonly boundary: StepBoundary;
  /** Frontend messages in it, by name (`Parse`, `Bind`, `Describe`, `Execute`, `Sync`). */
  readonly messages: readonly string[];
  readonly statements: readonly StepStatement[];
  /** Bytes the step forwards. */
  readonly bytes: number;
  state: StepState;
  /** Transaction status when the server began answering it (the last ReadyForQuery before). */
  txBefore?: TxStatus;
  /** From the ReadyForQuery that ended it (absent for a Flush step). */
  txAfter?: TxStatus;
  results: StepResult[];
  /** The first error among `results`, for convenience. */
  error?: ServerError;
  timing: StepTiming;
}

/** Per-connection state a step's decoding needs: prepared statements and portals, by name. */
export class StatementRegistry {
  readonly statements = new Map<string, string>();
  readonly portals = new Map<string, { statement: string; params: ParamValue[] }>();
}

/** Accumulates one connection's frontend messages into the next step. */
export class StepBuilder {
  readonly chunks: Buffer[] = [];
  readonly codes: number[] = [];
  readonly statements: StepStatement[] = [];
  #parsed: { statement: string; sql: string }[] = [];
  #bytes = 0;

  constructor(
    readonly arrivedAtMs: number,
    private readonly registry: StatementRegistry,
  ) {}

  get empty(): boolean {
    return this.codes.length === 0;
  }

  add(raw: Buffer, m: FrontendMessage): void {
    this.chunks.push(raw);
    this.codes.push(raw[0]!);
    this.#bytes += raw.length;
    const r = this.registry;
    switch (m.type) {
      case 'Query':
        for (const s of normalizeSql(m.sql).statements) this.statements.push({ via: 'query', ...s });
        break;
      case 'Parse':
        r.statements.set(m.statement, m.sql);
        this.#parsed.push({ statement: m.statement, sql: m.sql });
        break;
      case 'Bind':
        r.portals.set(m.portal, { statement: m.statement, params: m.params });
        break;
      case 'Execute': {
        const portal = r.portals.get(m.portal);
        const sql = portal ? (r.statements.get(portal.statement) ?? '') : '';
        const { text, shape } = normalizeSql(sql);
        this.statements.push({
          via: 'execute',
          text,
          shape,
          statement: portal?.statement,
          params: portal?.params,
        });
        break;
      }
      case 'Close':
        if (m.target === 'statement') r.statements.delete(m.name);
        else r.portals.delete(m.name);
        break;
      case 'FunctionCall':
        this.statements.push({
          via: 'function-call',
          text: `function ${m.functionOid}`,
          shape: `function ${m.functionOid}`,
          params: m.args,
        });
        break;
    }
  }

  /** The finished step record. */
  build(o: {
    id: number;
    connectionId: number;
    backendPid: number | undefined;
    seq: number;
    boundary: StepBoundary;
    readyAtMs: number;
  }): Step {
    const statements = [...this.statements];
    if (!statements.some((s) => s.via === 'execute')) {
      for (const p of this.#parsed) {
        const { text, shape } = normalizeSql(p.sql);
        statements.push({ via: 'parse', text, shape, statement: p.statement });
      }
    }
    return {
      ...o,
      messages: this.codes.map(frontendName),
      statements,
      bytes: this.#bytes,
      state: 'queued',
      results: [],
      timing: { arrivedAtMs: this.arrivedAtMs, readyAtMs: o.readyAtMs },
    };
  }
}

/** The boundary a frontend message makes, or undefined when the step goes on. */
export function boundaryOf(code: number): StepBoundary | undefined {
  switch (code) {
    case Frontend.Query:
      return 'query';
    case Frontend.Sync:
      return 'sync';
    case Frontend.Flush:
      return 'flush';
    case Frontend.FunctionCall:
      return 'function-call';
    default:
      return undefined;
  }
}

/** Messages that belong to a step (everything else is forwarded as it comes, in order). */
export function isStepMessage(code: number): boolean {
  return (
    boundaryOf(code) !== undefined ||
    code === Frontend.Parse ||
    code === Frontend.Bind ||
    code === Frontend.Describe ||
    code === Frontend.Execute ||
    code === Frontend.Close
  );
}
