import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, cli, ROOT } from './helpers.js';

/**
 * The live status under a real pseudo-terminal (`script`, util-linux), sized like a terminal window, and
 * its absence where output is not a terminal (pipes, CI logs).
 */
const ESC = '\u001b';

/** Run the CLI in a pseudo-terminal of 150×40; returns everything the terminal received. */
function inTerminal(
  args: string[],
  env: Record<string, string | undefined> = {},
): { code: number; screen: string } {
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    WHATBREAKS_ENV: 'local',
    TERM: 'xterm',
    NO_COLOR: '1',
    ...env,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  const r = spawnSync('script', ['-qec', `stty cols 150 rows 40; ${quoted}`, '/dev/null'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: childEnv,
    timeout: 300_000,
  });
  return { code: r.status ?? -1, screen: `${r.stdout}${r.stderr}` };
}

const out = () => mkdtempSync(join(tmpdir(), 'whatbreaks-test-progress-'));

describe('progress while a run works', () => {
  it('on a terminal: the environment, each trial phase with its counts, and the run line, redrawn', () => {
    const r = inTerminal(['run', 'scenarios/single-completion.yaml', '--trials', '2', '--out', out()], {
      CI: undefined,
    });
    expect(r.code).toBe(1);
    expect(r.screen).toMatch(/starting the environment \(PostgreSQL, target\) · \d+\.\d s/);
    expect(r.screen).toMatch(/trial 1\/2 · resetting the database/);
    expect(r.screen).toMatch(
      /trial 1\/2 · load: (preparing 20 requests \(last-byte\)|released, waiting for the responses)/,
    );
    expect(r.screen).toMatch(/trial 2\/2 · /);
    expect(r.screen).toMatch(/ {2}0 of 2 trials done · elapsed \d+\.\d s/);
    expect(r.screen).toMatch(/ {2}1 of 2 trials done: 1 failed · elapsed/);
    // Redrawn in place (log-update erases its lines), and the permanent lines are all there.
    expect(r.screen).toContain(`${ESC}[2K`);
    expect(r.screen).toMatch(/trial 1\/2.* FAIL.* 20 requests \(last-byte\)/);
    expect(r.screen).toMatch(/single-completion \[buggy\] on local: .*FAIL/);
  });

  it('not on a terminal (a pipe): no status, no escape sequences', () => {
    const r = cli(['run', 'scenarios/single-completion.yaml', '--trials', '1', '--out', out()]);
    expect(r.code).toBe(1);
    const all = r.stdout + r.stderr;
    expect(all).toMatch(/trial 1\/1 FAIL/);
    expect(all).not.toMatch(/trials done|starting the environment|load: /);
    expect(all).not.toContain(ESC);
  });

  it('in CI, even on a terminal: no status', () => {
    const r = inTerminal(['run', 'scenarios/single-completion.yaml', '--trials', '1', '--out', out()], {
      CI: 'true',
    });
    expect(r.code).toBe(1);
    expect(r.screen).toMatch(/trial 1\/1 .*FAIL/);
    expect(r.screen).not.toMatch(/trials done|starting the environment|load: /);
  });
});
