#!/usr/bin/env node
// CI's guard against tests that did not run: reads vitest's JSON report (`--reporter=json
// --outputFile.json=FILE`), prints how many tests passed, failed and were skipped, and exits 1 when
//   - any test failed, a test file failed to load, or the report holds no test at all;
//   - any test was skipped (skip, skipIf, ctx.skip, todo) that the allow-list does not name;
//   - with --covers EARLIER.json: a test EARLIER.json skipped did not pass here (the docker stage
//     runs what the main stage had to skip, and must run all of it).
//
//   node ci/check-skips.mjs REPORT.json [--allow ci/allowed-skips.txt] [--covers EARLIER.json]
//
// Allow-list lines: `<test file> :: <test name> :: <why it may be skipped>`; `#` starts a comment. The
// test name is vitest's full name (describe titles and the test title joined by spaces); a trailing `*`
// matches any rest. Every entry must give a reason.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const NOT_RUN = new Set(['skipped', 'pending', 'todo']);

/** `[{ file, pattern, reason, line }]` from the allow-list text; throws on a malformed line. */
export function parseAllowList(text, source = 'allow-list') {
  const entries = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const parts = line.split('::').map((p) => p.trim());
    if (parts.length !== 3 || parts.some((p) => p === '')) {
      throw new Error(
        `${source}:${i + 1}: expected '<test file> :: <test name> :: <why>', got '${raw.trim()}'`,
      );
    }
    const [file, pattern, reason] = parts;
    entries.push({ file, pattern, reason, line: i + 1 });
  });
  return entries;
}

function matches(entry, file, name) {
  if (entry.file !== file) return false;
  return entry.pattern.endsWith('*') ? name.startsWith(entry.pattern.slice(0, -1)) : name === entry.pattern;
}

/** Every test of a vitest JSON report as `{ file, name, status }`, files relative to `root`. */
export function testsOf(report, root = process.cwd()) {
  return (report.testResults ?? []).flatMap((f) =>
    (f.assertionResults ?? []).map((t) => ({
      file: relative(root, f.name),
      name: t.fullName,
      status: t.status,
    })),
  );
}

/**
 * The verdict on one report: `{ ok, lines }`, lines to print. `allow`: parsed allow-list entries;
 * `covers`: an earlier report whose skipped tests must all have passed in this one.
 */
export function checkReport(report, { allow = [], covers, root = process.cwd() } = {}) {
  const lines = [];
  let ok = true;
  const tests = testsOf(report, root);
  const count = (s) => tests.filter((t) => t.status === s).length;
  const notRun = tests.filter((t) => NOT_RUN.has(t.status));
  lines.push(
    `vitest: ${tests.length} tests: ${count('passed')} passed, ${count('failed')} failed, ${notRun.length} skipped`,
  );
  if (tests.length === 0) {
    ok = false;
    lines.push('FAIL: the report holds no test');
  }
  if (count('failed') > 0) {
    ok = false;
    for (const t of tests.filter((x) => x.status === 'failed'))
      lines.push(`FAIL: failed: ${t.file} > ${t.name}`);
  }
  for (const f of report.testResults ?? []) {
    if (f.status === 'failed' && (f.assertionResults ?? []).every((t) => t.status !== 'failed')) {
      ok = false;
      lines.push(`FAIL: ${relative(root, f.name)} did not run: ${f.message || 'no message'}`);
    }
  }
  for (const t of notRun) {
    const entry = allow.find((e) => matches(e, t.file, t.name));
    if (entry) {
      lines.push(`skipped (allowed: ${entry.reason}): ${t.file} > ${t.name}`);
    } else {
      ok = false;
      lines.push(`FAIL: skipped, not on the allow-list: ${t.file} > ${t.name}`);
    }
  }
  if (covers) {
    const earlier = testsOf(covers, root).filter((t) => NOT_RUN.has(t.status));
    const here = new Map(tests.map((t) => [`${t.file} > ${t.name}`, t.status]));
    let covered = 0;
    for (const t of earlier) {
      const status = here.get(`${t.file} > ${t.name}`);
      if (status === 'passed') covered++;
      else {
        ok = false;
        lines.push(`FAIL: skipped earlier and ${status ?? 'absent'} here: ${t.file} > ${t.name}`);
      }
    }
    lines.push(`${covered} of ${earlier.length} tests skipped earlier passed here`);
  }
  return { ok, lines };
}

function main(argv) {
  const [reportFile, ...rest] = argv;
  if (!reportFile) {
    console.error('usage: node ci/check-skips.mjs REPORT.json [--allow FILE] [--covers EARLIER.json]');
    return 2;
  }
  let allow = [];
  let covers;
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--allow') allow = parseAllowList(readFileSync(value, 'utf8'), value);
    else if (flag === '--covers') covers = JSON.parse(readFileSync(value, 'utf8'));
    else throw new Error(`unknown option ${flag}`);
  }
  const { ok, lines } = checkReport(JSON.parse(readFileSync(reportFile, 'utf8')), { allow, covers });
  for (const l of lines) (l.startsWith('FAIL') ? console.error : console.log)(l);
  if (!ok) console.error(`check-skips: ${reportFile} does not pass (see FAIL lines above)`);
  return ok ? 0 : 1;
}

if (import.meta.filename === process.argv[1]) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`check-skips: ${err.message}`);
    process.exitCode = 2;
  }
}
