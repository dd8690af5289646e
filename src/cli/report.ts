import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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

const GIVE = 'give report.json (or verify.json), or the run folder that holds it';

/**
 * The report file `arg` names: a file as given, or in a folder its `report.json` (a run) or `verify.json`
 * (a verify).
 * @throws WhatbreaksError `REPORT_INVALID` for a missing path, a folder without either file, or a
 *   rendered report (`.md`, `.html`, `.xml`) given instead of the JSON it was rendered from.
 */
export function reportFileOf(arg: string): string {
  const path = resolve(arg);
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch (err) {
    throw new WhatbreaksError(
      'REPORT_INVALID',
      `cannot read ${arg}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (err as Error).message}`,
      GIVE,
    );
  }
  if (stat.isDirectory()) {
    for (const name of ['report.json', 'verify.json']) {
      if (existsSync(join(path, name))) return join(path, name);
    }
    throw new WhatbreaksError(
      'REPORT_INVALID',
      `${arg} is a folder without report.json or verify.json`,
      `${GIVE}: a run folder is reports/<scenario>-<variant>-<time>/`,
    );
  }
  const rendered = /\.(md|html?|xml)$/i.exec(path)?.[1];
  if (rendered) {
    throw new WhatbreaksError(
      'REPORT_INVALID',
      `${arg} is a rendered report (.${rendered.toLowerCase()}); whatbreaks report renders from the JSON`,
      `${GIVE}, e.g. whatbreaks report ${relative(process.cwd(), dirname(path)) || '.'}/`,
    );
  }
  return path;
}

function readJson(file: string, arg: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new WhatbreaksError('REPORT_INVALID', `cannot read ${arg}: ${(err as Error).message}`, GIVE);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new WhatbreaksError('REPORT_INVALID', `${arg} is not JSON, so not a whatbreaks report`, GIVE);
  }
}

/** `whatbreaks report <report.json|verify.json> [--out DIR]`: re-render the formats and print the summary. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      're-render report.md, report.html and junit.xml from a report.json (or verify.md from a verify.json)',
    )
    .argument('<file>', 'report.json of a run, verify.json of a verify, or the folder holding either')
    .option('--out <dir>', 'write the formats here (default: beside the file)')
    .option('-q, --quiet', 'print only the summary')
    .action((file: string, opts: { out?: string; quiet?: boolean }) => {
      const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
      const path = reportFileOf(file);
      const dir = resolve(opts.out ?? dirname(path));
      const value = readJson(path, file);
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
