import { join } from 'node:path';
import { writeAtomic } from '../report/write.js';
import { renderMutationHtml } from './mutation-html.js';
import { renderMutationMarkdown } from './mutation-render.js';
import type { MutationFile } from './mutation-schema.js';

/**
 * Write `mutation.json`, `mutation.md` and `mutation.html` into `dir` (each atomically). JSON first: a
 * renderer that throws never loses the data. Returns the absolute paths written, JSON first.
 */
export function writeMutationFiles(dir: string, file: MutationFile): string[] {
  const json = join(dir, 'mutation.json');
  writeAtomic(json, `${JSON.stringify(file, null, 2)}\n`);
  const md = join(dir, 'mutation.md');
  writeAtomic(md, renderMutationMarkdown(file));
  const html = join(dir, 'mutation.html');
  writeAtomic(html, renderMutationHtml(file));
  return [json, md, html];
}
