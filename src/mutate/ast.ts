/**
 * Small helpers over libpg-query trees. A tree node is a one-key object naming its type
 * (`{ SelectStmt: { … } }`); its body holds fields, lists and more nodes. Operators find what they mutate
 * with `forEachNode` and change the body in place, on a copy the runner made (`structuredClone`).
 */

/** A node's body: its fields by name. */
export type Body = Record<string, unknown>;

/** Whether `key` names a node type (PascalCase or `A_Expr`-style), not a field. */
function isTypeName(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 65 && c <= 90;
}

/**
 * Visit every node under `tree`, parents before children, in field order (a stable order: the same
 * statement shape gives the same sequence). `holder` is the one-key object `{ [type]: body }`, so a
 * visitor can replace the node: `delete holder[type]; holder.NewType = …`.
 */
export function forEachNode(tree: unknown, visit: (type: string, body: Body, holder: Body) => void): void {
  if (Array.isArray(tree)) {
    for (const x of tree) forEachNode(x, visit);
    return;
  }
  if (!tree || typeof tree !== 'object') return;
  const obj = tree as Body;
  const keys = Object.keys(obj);
  if (keys.length === 1 && isTypeName(keys[0]!)) {
    const type = keys[0]!;
    const body = obj[type];
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      visit(type, body as Body, obj);
      // The visitor may have replaced the node: walk what is there now.
      const now = Object.keys(obj)[0];
      if (now !== undefined) forEachNode(Object.values(obj[now] as Body), visit);
      return;
    }
  }
  for (const v of Object.values(obj)) forEachNode(v, visit);
}

/** Bodies of every node of `type` under `tree`, in walk order. */
export function nodesOf(tree: unknown, type: string): Body[] {
  const out: Body[] = [];
  forEachNode(tree, (t, body) => {
    if (t === type) out.push(body);
  });
  return out;
}

/** Parameter numbers (`$n`) used under `tree`, ascending. */
export function paramNumbers(tree: unknown): number[] {
  const out = new Set<number>();
  forEachNode(tree, (t, body) => {
    if (t === 'ParamRef' && typeof body.number === 'number') out.add(body.number);
  });
  return [...out].sort((a, b) => a - b);
}

/** The `sval` of a `{ String: { sval } }` node, else undefined. */
export function stringOf(node: unknown): string | undefined {
  const s = (node as { String?: { sval?: unknown } } | undefined)?.String?.sval;
  return typeof s === 'string' ? s : undefined;
}

/** The string value of an `A_Const` string constant (`'serializable'`), else undefined. */
export function constString(node: unknown): string | undefined {
  const s = (node as { A_Const?: { sval?: { sval?: unknown } } } | undefined)?.A_Const?.sval?.sval;
  return typeof s === 'string' ? s : undefined;
}

/** Names of a qualified name list (`[{String: {sval: 'pg_catalog'}}, …]`), lower-cased as parsed. */
export function names(list: unknown): string[] {
  return Array.isArray(list) ? list.map((n) => stringOf(n) ?? '') : [];
}

/** `{ ColumnRef: … }` → its field names (`['c', 'task']`), else undefined (`*` gives undefined). */
export function columnRef(node: unknown): string[] | undefined {
  const fields = (node as { ColumnRef?: { fields?: unknown[] } } | undefined)?.ColumnRef?.fields;
  if (!Array.isArray(fields)) return undefined;
  const out = fields.map(stringOf);
  return out.every((x) => x !== undefined) ? (out as string[]) : undefined;
}

/** A type name node (`bigint` → `pg_catalog.int8`). */
export function typeName(...parts: string[]): Body {
  return { names: parts.map((sval) => ({ String: { sval } })), typemod: -1 };
}
