import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInOwnSession, runSyncInOwnSession, spawnInOwnSession } from './own-session.js';

/** pid, process group and session of the process that prints its own `/proc/self/stat` (`cat`). */
function idsOf(stat: string): { pid: number; pgid: number; sid: number } {
  // Fields after the command name, which is in parentheses and may hold spaces: state ppid pgrp session …
  const [pid] = stat.split(' ');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { pid: Number(pid), pgid: Number(rest[2]), sid: Number(rest[3]) };
}

/** A value import of child_process (not `import type`), a require of it, or a dynamic import. */
const STARTS_PROCESSES =
  /^import\s+(?!type\s)[^;]*from\s+['"](node:)?child_process['"]|require\(\s*['"](node:)?child_process|import\(\s*['"](node:)?child_process/m;

const own = idsOf(readFileSync('/proc/self/stat', 'utf8'));

describe('children run in a session of their own', () => {
  it('spawnInOwnSession: the child leads its own session and group, apart from ours', async () => {
    const child = spawnInOwnSession('cat', ['/proc/self/stat'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    await new Promise((resolve) => child.once('close', resolve));
    const ids = idsOf(out);
    expect(ids.pid).toBe(child.pid);
    expect(ids.pgid).toBe(ids.pid);
    expect(ids.sid).toBe(ids.pid);
    expect(ids.pgid).not.toBe(own.pgid);
    expect(ids.sid).not.toBe(own.sid);
  });

  it('runInOwnSession: the same, with the output collected', async () => {
    const r = await runInOwnSession('cat', ['/proc/self/stat']);
    expect(r.code).toBe(0);
    const ids = idsOf(r.stdout);
    expect([ids.pgid, ids.sid]).toEqual([ids.pid, ids.pid]);
    expect(ids.pgid).not.toBe(own.pgid);
  });

  it('runInOwnSession: a command that cannot start resolves with the error', async () => {
    const r = await runInOwnSession('/nonexistent/whatbreaks-no-such-program', []);
    expect(r.error?.message).toMatch(/ENOENT/);
    expect(r.code).not.toBe(0);
  });

  it('runSyncInOwnSession: Node still honours detached in spawnSync (undocumented)', () => {
    const r = runSyncInOwnSession('cat', ['/proc/self/stat']);
    expect(r.status).toBe(0);
    const ids = idsOf(r.stdout);
    expect([ids.pgid, ids.sid]).toEqual([ids.pid, ids.pid]);
    expect(ids.pgid).not.toBe(own.pgid);
  });

  it('no other file in src/ starts a process (every spawn goes through own-session.ts)', () => {
    const src = join(import.meta.dirname, '..');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if (e.isDirectory()) walk(path);
        else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && e.name !== 'own-session.ts') {
          // Type-only imports start nothing.
          const code = readFileSync(path, 'utf8');
          if (STARTS_PROCESSES.test(code)) offenders.push(relative(src, path));
        }
      }
    };
    walk(src);
    expect(offenders).toEqual([]);
  });
});
