/**
 * Discovery: from the statements one run of the candidate sent, the mutation points that can matter —
 * each (statement, operator, site) with the clause it removes and how often the statement ran — and, for
 * each point, the rewrite a proxy applies on the fly to statements that match it.
 *
 * A point is named by its operator and the statement's fingerprint (pg_query's: the same for every
 * execution of one statement in the code, whatever its literal values, parameter numbers, whitespace or
 * comments), so ids stay the same from run to run and from driver to driver:
 * `drop-row-lock@c00d0671ab775e1f`, and `…#2` for a statement's second site of one operator. Its label
 * shows the statement: `drop-row-lock@SELECT status FROM jobs WHERE id = $1 FOR UPDATE`.
 *
 * SQL the parser cannot read is listed as unparsed with the parser's message; it has no point, and a
 * rewrite leaves it exactly as it was.
 */
import type { OperatorContext, OperatorName } from './operator.js';
import { statementOperator, statementOperators } from './operators/registry.js';
import { mutateStatement } from './rewrite.js';
import {
  loadSqlParser,
  normalizeStatement,
  type ParsedStatement,
  parseSql,
  spliceSql,
} from './sql-parser.js';

/** SQL text as the client sent it (a simple Query's text, or a Parse's), and how many times. */
export interface SeenStatement {
  readonly sql: string;
  readonly count: number;
}

export interface MutationPoint {
  /** `<operator>@<fingerprint>[#<site>]`: stable across runs. */
  readonly id: string;
  /** `<operator>@<statement>[#<site>]`: for people. */
  readonly label: string;
  readonly operator: OperatorName;
  readonly fingerprint: string;
  /** 0-based index of the site among the operator's sites in the statement. */
  readonly site: number;
  /**
   * The statement as sent on one line, or, when executions sent different texts (literal values, as
   * psycopg2 sends them), with literals replaced by `$n` (pg_stat_statements style).
   */
  readonly statement: string;
  /** The protection the mutant removes, as SQL. */
  readonly clause: string;
  /** Executions of statements with this fingerprint in the run. */
  readonly seen: number;
  /** The first statement seen with this fingerprint, as sent, and its mutant. */
  readonly example: { readonly sql: string; readonly mutant: string };
}

/** A site found but not mutable; the reason says why (e.g. it would remove a bound parameter). */
export interface RefusedPoint extends Omit<MutationPoint, 'example'> {
  readonly reason: string;
}

export interface UnparsedStatement {
  readonly sql: string;
  readonly count: number;
  /** The parser's message (`syntax error at or near "…"`). */
  readonly error: string;
}

export interface Discovery {
  readonly points: MutationPoint[];
  readonly refused: RefusedPoint[];
  readonly unparsed: UnparsedStatement[];
  /** Distinct statements (fingerprints) parsed. */
  readonly statements: number;
}

export interface DiscoverOptions extends OperatorContext {
  /** Operators to look for (default: all statement operators). */
  readonly operators?: readonly OperatorName[];
}

/** List the mutation points of the statements a run saw. */
export async function discoverMutationPoints(
  seen: readonly SeenStatement[],
  options: DiscoverOptions = {},
): Promise<Discovery> {
  await loadSqlParser();
  const operators = (options.operators ?? [...statementOperators.keys()]).map((n) => statementOperator(n));
  // Statements by fingerprint, then by text (one fingerprint covers texts that differ in literals, and
  // statements the fingerprint treats as one: `BEGIN` and `BEGIN ISOLATION LEVEL SERIALIZABLE`).
  const groups = new Map<string, Map<string, { statement: ParsedStatement; count: number }>>();
  const unparsed: UnparsedStatement[] = [];
  for (const s of seen) {
    const parsed = parseSql(s.sql);
    if (!parsed.ok) {
      unparsed.push({ sql: s.sql, count: s.count, error: parsed.error });
      continue;
    }
    for (const st of parsed.statements) {
      const texts = groups.get(st.fingerprint) ?? new Map();
      groups.set(st.fingerprint, texts);
      const t = texts.get(st.text);
      if (t) t.count += s.count;
      else texts.set(st.text, { statement: st, count: s.count });
    }
  }
  const points: MutationPoint[] = [];
  const refused: RefusedPoint[] = [];
  for (const [fingerprint, texts] of groups) {
    for (const op of operators) {
      // Site k of this fingerprint: the first text that has it, and the executions of texts that have it.
      const sites: { example: ParsedStatement; seen: number }[] = [];
      for (const { statement, count } of texts.values()) {
        const n = op.sites(structuredClone(statement.node), options).length;
        for (let k = 0; k < n; k++) {
          const site = sites[k];
          if (site) site.seen += count;
          else sites[k] = { example: statement, seen: count };
        }
      }
      sites.forEach(({ example, seen: count }, site) => {
        const suffix = sites.length > 1 ? `#${site + 1}` : '';
        // As sent when every execution sent the same text (parameters), else with literals as `$n`.
        const statement = texts.size === 1 ? oneLine(example.text) : normalizeStatement(example.text);
        const base = {
          id: `${op.name}@${fingerprint}${suffix}`,
          label: `${op.name}@${statement}${suffix}`,
          operator: op.name,
          fingerprint,
          site,
          statement,
          seen: count,
        };
        const m = mutateStatement(example, op, site, options);
        if (m.ok) points.push({ ...base, clause: m.clause, example: { sql: example.text, mutant: m.text } });
        else refused.push({ ...base, clause: m.clause ?? '', reason: m.reason });
      });
    }
  }
  return { points, refused, unparsed, statements: groups.size };
}

/** Whitespace runs as one space, for labels. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** What a rewrite did to one SQL text. */
export type RewriteResult =
  | { changed: true; sql: string; statements: number }
  | {
      changed: false;
      /**
       * `unparsed`: the parser could not read it; `no-match`: no statement has the point's fingerprint;
       * `no-site`: statements match but lack the site (`BEGIN` shares a fingerprint with `BEGIN
       * ISOLATION LEVEL SERIALIZABLE`); `refused`: the site is there but a runner rule refused it.
       */
      why: 'unparsed' | 'no-match' | 'no-site' | 'refused';
      detail?: string;
    };

export interface Rewriter {
  readonly point: Pick<MutationPoint, 'id' | 'operator' | 'fingerprint' | 'site'>;
  /**
   * Rewrite the statements of `sql` that match the point (same fingerprint); other statements of a
   * multi-statement text keep their bytes. Synchronous (the parser must be loaded: discovery loads it,
   * or `loadSqlParser()`); results are cached by text. Never throws for bad SQL.
   */
  rewrite(sql: string): RewriteResult;
}

/** Texts whose rewrite a rewriter remembers (statements repeat; each parse costs tens of µs). */
const CACHE_ENTRIES = 1_000;

/** The rewrite for one mutation point. */
export function rewriterFor(
  point: Pick<MutationPoint, 'id' | 'operator' | 'fingerprint' | 'site'>,
  context: OperatorContext = {},
): Rewriter {
  const op = statementOperator(point.operator);
  const cache = new Map<string, RewriteResult>();
  const compute = (sql: string): RewriteResult => {
    const parsed = parseSql(sql);
    if (!parsed.ok) return { changed: false, why: 'unparsed', detail: parsed.error };
    const edits: { startByte: number; endByte: number; text: string }[] = [];
    let miss: RewriteResult = { changed: false, why: 'no-match' };
    for (const st of parsed.statements) {
      if (st.fingerprint !== point.fingerprint) continue;
      const m = mutateStatement(st, op, point.site, context);
      if (m.ok) edits.push({ startByte: st.startByte, endByte: st.endByte, text: m.text });
      else if (miss.why !== 'refused')
        miss = { changed: false, why: m.noSite ? 'no-site' : 'refused', detail: m.reason };
    }
    if (edits.length) return { changed: true, sql: spliceSql(sql, edits), statements: edits.length };
    return miss;
  };
  return {
    point,
    rewrite(sql) {
      const hit = cache.get(sql);
      if (hit) return hit;
      const r = compute(sql);
      if (cache.size >= CACHE_ENTRIES) cache.clear();
      cache.set(sql, r);
      return r;
    },
  };
}
