import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunReport } from './types.js';

/** Write a file atomically (temp file + rename), so a reader or a crash never sees half a report. */
export function writeAtomic(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

export function writeReportJson(runDir: string, report: RunReport): string {
  const path = join(runDir, 'report.json');
  writeAtomic(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
