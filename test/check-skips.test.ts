import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

/**
 * `ci/check-skips.mjs`, CI's guard against tests that did not run, run as CI runs it: on vitest JSON
 * reports, one of them written by a real vitest run of skipped, todo and passing tests.
 */
const SCRIPT = join(ROOT, 'ci', 'check-skips.mjs');
const dir = mkdtempSync(join(tmpdir(), 'whatbreaks-test-check-skips-'));

type Status = 'passed' | 'failed' | 'skipped' | 'pending' | 'todo';
/** A vitest JSON report (the fields the script reads) of `tests`: `[file, full name, status]`. */
function report(tests: [string, string, Status][], broken: { file: string; message: string }[] = []) {
  const files = [...new Set(tests.map(([f]) => f))];
  return {
    testResults: [
      ...files.map((f) => ({
        name: join(ROOT, f),
        status: tests.some(([g, , s]) => g === f && s === 'failed') ? 'failed' : 'passed',
        message: '',
        assertionResults: tests
          .filter(([g]) => g === f)
          .map(([, fullName, status]) => ({ fullName, title: fullName, ancestorTitles: [], status })),
      })),
      ...broken.map((b) => ({
        name: join(ROOT, b.file),
        status: 'failed',
        message: b.message,
        assertionResults: [],
      })),
    ],
  };
}

let n = 0;
function write(content: unknown): string {
  const file = join(dir, `f${n++}`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function check(rep: unknown, opts: { allow?: string; covers?: unknown } = {}) {
  const args = [SCRIPT, write(rep)];
  if (opts.allow !== undefined) args.push('--allow', write(opts.allow));
  if (opts.covers !== undefined) args.push('--covers', write(opts.covers));
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

const ALLOW = `# comment
test/docker.test.ts :: docker environment (real engine) * :: no engine in the main stage
test/a.test.ts :: one exact name :: a reason
`;

describe('ci/check-skips.mjs', () => {
  it('passes a report where every test passed, printing the counts', () => {
    const r = check(
      report([
        ['test/a.test.ts', 'a', 'passed'],
        ['test/a.test.ts', 'b', 'passed'],
      ]),
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('vitest: 2 tests: 2 passed, 0 failed, 0 skipped');
  });

  it.each(['skipped', 'pending', 'todo'] as const)(
    'fails on a %s test the allow-list does not name',
    (status) => {
      const r = check(
        report([
          ['test/a.test.ts', 'a', 'passed'],
          ['test/b.test.ts', 'needs chromium', status],
        ]),
        {
          allow: ALLOW,
        },
      );
      expect(r.code).toBe(1);
      expect(r.out).toContain('FAIL: skipped, not on the allow-list: test/b.test.ts > needs chromium');
    },
  );

  it('lets an allowed skip through with its reason (exact name, or a prefix ending in *)', () => {
    const r = check(
      report([
        ['test/docker.test.ts', 'docker environment (real engine) replicas are containers', 'skipped'],
        ['test/a.test.ts', 'one exact name', 'skipped'],
        ['test/a.test.ts', 'other', 'passed'],
      ]),
      { allow: ALLOW },
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(
      'skipped (allowed: no engine in the main stage): test/docker.test.ts > docker environment (real engine) replicas are containers',
    );
    expect(r.out).toContain('vitest: 3 tests: 1 passed, 0 failed, 2 skipped');
  });

  it('an allow-list entry is for its file and name only', () => {
    const r = check(
      report([
        ['test/other.test.ts', 'one exact name', 'skipped'],
        ['test/a.test.ts', 'one exact name, longer', 'skipped'],
      ]),
      { allow: ALLOW },
    );
    expect(r.code).toBe(1);
    expect(r.out.match(/FAIL: skipped, not on the allow-list/g)).toHaveLength(2);
  });

  it('fails on a failed test, a test file that did not load, and a report without tests', () => {
    const failed = check(report([['test/a.test.ts', 'a', 'failed']]));
    expect(failed.code).toBe(1);
    expect(failed.out).toContain('FAIL: failed: test/a.test.ts > a');
    const broken = check(
      report(
        [['test/a.test.ts', 'a', 'passed']],
        [{ file: 'test/c.test.ts', message: 'Cannot find module' }],
      ),
    );
    expect(broken.code).toBe(1);
    expect(broken.out).toContain('FAIL: test/c.test.ts did not run: Cannot find module');
    const empty = check(report([]));
    expect(empty.code).toBe(1);
    expect(empty.out).toContain('FAIL: the report holds no test');
  });

  it("the repository's own allow-list parses and names test files that exist", () => {
    const text = readFileSync(join(ROOT, 'ci', 'allowed-skips.txt'), 'utf8');
    const files = [...text.matchAll(/^([^#\s][^:]*?) ::/gm)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(existsSync(join(ROOT, f)), f).toBe(true);
    const r = spawnSync(
      process.execPath,
      [
        SCRIPT,
        write(report([['test/a.test.ts', 'a', 'passed']])),
        '--allow',
        join(ROOT, 'ci', 'allowed-skips.txt'),
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
  });

  it('an allow-list line without a reason is an error (exit 2)', () => {
    const r = check(report([['test/a.test.ts', 'a', 'passed']]), { allow: 'test/a.test.ts :: a\n' });
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/:1: expected '<test file> :: <test name> :: <why>'/);
  });

  it('--covers: every test the earlier report skipped must have passed in this one', () => {
    const earlier = report([
      ['test/docker.test.ts', 'docker environment (real engine) x', 'skipped'],
      ['test/docker.test.ts', 'docker environment (real engine) y', 'skipped'],
      ['test/a.test.ts', 'a', 'passed'],
    ]);
    const both = report([
      ['test/docker.test.ts', 'docker environment (real engine) x', 'passed'],
      ['test/docker.test.ts', 'docker environment (real engine) y', 'passed'],
    ]);
    const ok = check(both, { covers: earlier });
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out).toContain('2 of 2 tests skipped earlier passed here');
    const one = check(report([['test/docker.test.ts', 'docker environment (real engine) x', 'passed']]), {
      covers: earlier,
    });
    expect(one.code).toBe(1);
    expect(one.out).toContain(
      'FAIL: skipped earlier and absent here: test/docker.test.ts > docker environment (real engine) y',
    );
  });

  it('reads a real vitest JSON report: skip, skipIf, ctx.skip and todo all count as skipped', () => {
    const root = mkdtempSync(join(tmpdir(), 'whatbreaks-test-check-skips-vitest-'));
    writeFileSync(
      join(root, 'x.test.mjs'),
      `import { describe, it } from 'vitest';
describe('outer', () => {
  it('runs', () => {});
  it.skip('skip', () => {});
  it.skipIf(true)('skipIf', () => {});
  it('ctx.skip', (ctx) => ctx.skip('busy'));
  it.todo('todo');
});
`,
    );
    writeFileSync(join(root, 'vitest.config.mjs'), 'export default {};\n');
    const out = join(root, 'report.json');
    const run = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        '--root',
        root,
        '--reporter=json',
        `--outputFile.json=${out}`,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    const r = spawnSync(process.execPath, [SCRIPT, out], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('vitest: 5 tests: 1 passed, 0 failed, 4 skipped');
    for (const name of ['skip', 'skipIf', 'ctx.skip', 'todo'])
      expect(r.stderr).toContain(`FAIL: skipped, not on the allow-list: x.test.mjs > outer ${name}`);
  });
});
