import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { WhatbreaksError } from '../errors.js';
import { writeReportFormats } from '../report/formats.js';
import { renderVerifyMarkdown } from '../report/markdown-verify.js';
import { validateReport } from '../report/schema.js';
import { renderSummary, renderTrial } from '../report/terminal.js';
import type { RunReport } from '../report/types.js';
import { writeAtomic } from '../report/write.js';
import type { VerifyReport } from '../verify.js';
import { renderVerifySummary } from './verify.js';

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new WhatbreaksError('REPORT_INVALID', `cannot read ${file}: ${(err as Error).message}`);
  }
}

/** `whatbreaks report <report.json|verify.json> [--out DIR]`: re-render the formats and print the summary. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      're-render report.md, report.html and junit.xml from a report.json (or verify.md from a verify.json)',
    )
    .argument('<file>', 'report.json of a run, or verify.json of a verify')
    .option('--out <dir>', 'write the formats here (default: beside the file)')
    .option('-q, --quiet', 'print only the summary')
    .action((file: string, opts: { out?: string; quiet?: boolean }) => {
      const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
      const path = resolve(file);
      const dir = resolve(opts.out ?? dirname(path));
      const value = readJson(path);
      if ((value as { kind?: unknown })?.kind === 'verify') {
        const v = value as VerifyReport;
        const out = resolve(dir, 'verify.md');
        writeAtomic(out, renderVerifyMarkdown(v));
        process.stdout.write(`${renderVerifySummary(v, color)}\nwrote ${out}\n`);
        return;
      }
      const checked = validateReport(value);
      if (!checked.ok) {
        throw new WhatbreaksError(
          'REPORT_INVALID',
          `${file} is not a whatbreaks report.json:\n${checked.issues
            .slice(0, 20)
            .map((i) => `  ${i}`)
            .join('\n')}`,
          'its schema: src/report/report.schema.json',
        );
      }
      const report: RunReport = checked.report;
      const written = writeReportFormats(dir, report);
      if (!opts.quiet)
        for (const t of report.trials)
          process.stdout.write(`${renderTrial(t, report.summary.trials, { color })}\n`);
      process.stdout.write(`${renderSummary(report, path, { color })}\n`);
      for (const f of written.files) process.stdout.write(`wrote ${f}\n`);
      for (const e of written.errors)
        process.stderr.write(`whatbreaks: ${e.format} not written: ${e.error}\n`);
      if (written.errors.length > 0) process.exitCode = 2;
    });
}
