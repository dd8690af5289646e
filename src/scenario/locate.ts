import { distance } from 'fastest-levenshtein';
import { type Document, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import type { z } from 'zod';

/**
 * Maps a path in the parsed value (`['load', 'requests']`) back to where it is written in the YAML
 * source, so every scenario error can name file, line and column.
 */
export interface SourcePosition {
  line: number;
  column: number;
}

type Key = PropertyKey;

function nodeAt(doc: Document, path: readonly Key[]): { node: Node | null; keyNode?: Node; depth: number } {
  let node: unknown = doc.contents;
  let keyNode: Node | undefined;
  let depth = 0;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) break;
      keyNode = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key];
      if (item === undefined) break;
      keyNode = undefined;
      node = item;
    } else {
      break;
    }
    depth++;
  }
  return { node: (node as Node | null) ?? null, keyNode, depth };
}

function position(lc: LineCounter, node: Node | undefined | null): SourcePosition {
  const offset = node?.range?.[0] ?? 0;
  const { line, col } = lc.linePos(offset);
  return { line, column: col };
}

/**
 * Where `path` is written. A value that exists points at its key (`requests:`) for a scalar and at the
 * key for a block; a missing field points at the nearest enclosing block that exists.
 */
export function locate(doc: Document, lc: LineCounter, path: readonly Key[]): SourcePosition {
  const { node, keyNode, depth } = nodeAt(doc, path);
  if (depth === path.length) return position(lc, keyNode ?? node);
  return position(lc, keyNode ?? node);
}

/** Where the key `key` of the map at `path` is written (for unknown keys). */
export function locateKey(doc: Document, lc: LineCounter, path: readonly Key[], key: string): SourcePosition {
  return locate(doc, lc, [...path, key]);
}

/** The keys a schema accepts at `path` (given the value found there), to suggest a correction for a typo. */
export function knownKeysAt(schema: z.ZodType, path: readonly Key[], value: unknown): string[] {
  let s: unknown = schema;
  let v: unknown = value;
  const unwrap = (x: unknown, val: unknown): unknown => {
    for (let i = 0; i < 20; i++) {
      const def = (x as { _zod?: { def?: Record<string, unknown> } })?._zod?.def;
      if (!def) return x;
      if (
        def.type === 'optional' ||
        def.type === 'default' ||
        def.type === 'prefault' ||
        def.type === 'nullable'
      ) {
        x = def.innerType;
      } else if (def.type === 'pipe') {
        x = def.in;
      } else if (def.type === 'union' && Array.isArray(def.options)) {
        const disc = def.discriminator as string | undefined;
        const tag =
          disc && val && typeof val === 'object' ? (val as Record<string, unknown>)[disc] : undefined;
        const pick = (def.options as unknown[]).find((o) => {
          const shape = (
            o as { _zod: { def: { shape?: Record<string, { _zod: { def: { values?: unknown[] } } }> } } }
          )._zod.def.shape;
          const lit = disc ? shape?.[disc]?._zod.def.values : undefined;
          return lit
            ? lit.includes(tag)
            : (o as { _zod: { def: { type: string } } })._zod.def.type === 'object';
        });
        if (!pick) return x;
        x = pick;
      } else {
        return x;
      }
    }
    return x;
  };
  s = unwrap(s, v);
  for (const key of path) {
    const def = (s as { _zod: { def: Record<string, unknown> } })._zod.def;
    if (def.type === 'object') {
      s = (def.shape as Record<string, unknown>)[String(key)];
    } else if (def.type === 'array') {
      s = def.element;
    } else if (def.type === 'record') {
      s = def.valueType;
    } else {
      return [];
    }
    v = v && typeof v === 'object' ? (v as Record<string, unknown>)[String(key)] : undefined;
    s = unwrap(s, v);
    if (!s) return [];
  }
  const def = (s as { _zod: { def: Record<string, unknown> } })._zod.def;
  return def.type === 'object' ? Object.keys(def.shape as Record<string, unknown>) : [];
}

/** The known key closest to a misspelled one (edit distance ≤ 2, or a case-insensitive match). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    if (c.toLowerCase() === word.toLowerCase()) return c;
    const d = distance(word, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best;
}
