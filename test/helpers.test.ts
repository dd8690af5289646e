import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leftovers, markTest } from './helpers.js';

/** The leftover check the integration tests rely on: scoped to what this test started, nothing else. */
describe('leftovers', () => {
  it('finds a process started under the mark, not one under another mark, and forgets it once gone', async () => {
    const other = markTest();
    const theirs = spawn('sleep', ['30'], { stdio: 'ignore' });
    const mine = markTest();
    const ours = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const left = await leftovers(mine, process.pid, 0);
      expect(left.processes).toEqual([`${ours.pid} sleep 30`]);
      expect((await leftovers(other, process.pid, 0)).processes).toEqual([`${theirs.pid} sleep 30`]);
    } finally {
      ours.kill('SIGKILL');
      theirs.kill('SIGKILL');
    }
    await Promise.all([once(ours, 'exit'), once(theirs, 'exit')]);
    expect(await leftovers(mine, process.pid, 0)).toEqual({ processes: [], dirs: [] });
  });

  it("finds the PostgreSQL data folders named for the whatbreaks process's pid, not another's", async () => {
    const mark = markTest();
    const mine = mkdtempSync(join(tmpdir(), `whatbreaks-pg-${process.pid}-`));
    const notMine = mkdtempSync(join(tmpdir(), `whatbreaks-pg-${process.pid}1-`));
    try {
      expect((await leftovers(mark, process.pid, 0)).dirs).toEqual([mine.slice(tmpdir().length + 1)]);
    } finally {
      rmSync(mine, { recursive: true });
      rmSync(notMine, { recursive: true });
    }
    expect(await leftovers(mark)).toEqual({ processes: [], dirs: [] });
  });

  it('waits for a process that is on its way out', async () => {
    const mark = markTest();
    const p = spawn('sleep', ['0.3'], { stdio: 'ignore' });
    expect((await leftovers(mark, process.pid, 0)).processes).toHaveLength(1);
    expect(await leftovers(mark, process.pid, 5_000)).toEqual({ processes: [], dirs: [] });
    expect(p.exitCode).toBe(0);
  });
});
