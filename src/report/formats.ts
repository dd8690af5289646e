import { join } from 'node:path';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import type { RunReport } from './types.js';
import { writeAtomic } from './write.js';

/**
 * The report formats written beside report.json, keyed by name. Each renders from report.json alone,
 * so `whatbreaks report <report.json>` can re-render any run. Adding a format is one file and one line.
 */
export interface ReportFormat {
  /** File name inside the run folder. */
  file: string;
  render(report: RunReport): string;
}

export const reportFormats = {
  markdown: { file: 'report.md', render: renderMarkdown },
  html: { file: 'report.html', render: renderHtml },
  junit: { file: 'junit.xml', render: renderJunit },
} as const satisfies Record<string, ReportFormat>;

export type ReportFormatName = keyof typeof reportFormats;

export interface FormatsWritten {
  /** Absolute paths written. */
  files: string[];
  /** Formats that failed to render: a bug in a renderer never loses report.json or the other formats. */
  errors: { format: string; error: string }[];
}

/** Render every format (or the named ones) of `report` into `dir`. */
export function writeReportFormats(
  dir: string,
  report: RunReport,
  names: readonly ReportFormatName[] = Object.keys(reportFormats) as ReportFormatName[],
): FormatsWritten {
  const written: FormatsWritten = { files: [], errors: [] };
  for (const name of names) {
    const f: ReportFormat = reportFormats[name];
    try {
      const path = join(dir, f.file);
      writeAtomic(path, f.render(report));
      written.files.push(path);
    } catch (err) {
      written.errors.push({ format: name, error: (err as Error).stack ?? String(err) });
    }
  }
  return written;
}
