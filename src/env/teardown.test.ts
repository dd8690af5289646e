import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pendingCleanups, registerCleanup, runCleanups, runLastResorts } from './teardown.js';

const TEARDOWN_JS = pathToFileURL(
  fileURLToPath(new URL('../../dist/src/env/teardown.js', import.meta.url)),
).href;

/**
 * A real child process that installs the handlers, registers a cleanup, says `ready`, and is sent `signal`.
 * `body` is the module's code after `import { … } from teardown.js`; it writes what ran to stdout.
 */
function childWithHandlers(
  body: string,
  signal: NodeJS.Signals = 'SIGINT',
): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const script = `import { installSignalHandlers, registerCleanup } from ${JSON.stringify(TEARDOWN_JS)};\n${body}\nsetInterval(() => {}, 1000);\nconsole.log('ready');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let t0 = 0;
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (!t0 && out.includes('ready')) {
      t0 = performance.now();
      child.kill(signal);
    }
  });
  return new Promise((resolve) =>
    child.once('exit', (code) => resolve({ code, out, err, ms: performance.now() - t0 })),
  );
}

describe('teardown registry', () => {
  it('runs cleanups newest first and forgets each once it has finished', async () => {
    const ran: string[] = [];
    registerCleanup('a', async () => void ran.push('a'));
    registerCleanup('b', async () => void ran.push('b'));
    await runCleanups();
    expect(ran).toEqual(['b', 'a']);
    expect(pendingCleanups()).toEqual([]);
  });

  it('a failed cleanup is reported and its last resort runs at once', async () => {
    const ran: string[] = [];
    const errors: string[] = [];
    registerCleanup(
      'broken',
      async () => {
        throw new Error('engine gone');
      },
      () => void ran.push('last resort'),
    );
    await runCleanups((label, err) => errors.push(`${label}: ${(err as Error).message}`));
    expect(errors).toEqual(['broken: engine gone']);
    expect(ran).toEqual(['last resort']);
    expect(pendingCleanups()).toEqual([]);
  });

  it('a cleanup still running stays registered, so the last resorts cover it', async () => {
    const ran: string[] = [];
    let finish = () => {};
    registerCleanup(
      'slow',
      () => new Promise<void>((r) => (finish = r)),
      () => void ran.push('last resort'),
    );
    const cleanups = runCleanups();
    expect(pendingCleanups()).toEqual(['slow']);
    runLastResorts();
    expect(ran).toEqual(['last resort']);
    finish();
    await cleanups;
    expect(pendingCleanups()).toEqual([]);
  });
});

describe('signal handlers (real child process)', () => {
  it('Ctrl-C: the run wraps up, then the cleanups run, then exit 130', async () => {
    const r = await childWithHandlers(`
      installSignalHandlers({ onSignal: async () => { await new Promise((r) => setTimeout(r, 50)); console.log('run wrapped up'); } });
      registerCleanup('db', async () => console.log('cleanup'), () => console.log('last resort'));`);
    expect(r.code).toBe(130);
    expect(r.out.split('\n').filter(Boolean)).toEqual(['ready', 'run wrapped up', 'cleanup']);
  });

  it('a run that does not wrap up within graceMs still gets its async cleanups (SIGTERM: exit 143)', async () => {
    const r = await childWithHandlers(
      `
      installSignalHandlers({ graceMs: 200, onSignal: () => new Promise(() => {}) });
      registerCleanup('containers', async () => console.log('cleanup'), () => console.log('last resort'));`,
      'SIGTERM',
    );
    expect(r.code).toBe(143);
    expect(r.out).toMatch(/cleanup/);
    expect(r.out).not.toMatch(/last resort/);
  });

  it('a cleanup that outlives cleanupMs is cut short and its last resort runs before exit', async () => {
    const r = await childWithHandlers(`
      installSignalHandlers({ graceMs: 200, cleanupMs: 300, onSignal: async () => {} });
      registerCleanup('containers', () => new Promise(() => {}), () => console.log('last resort'));`);
    expect(r.code).toBe(130);
    expect(r.out).toMatch(/last resort/);
    expect(r.ms).toBeLessThan(10_000);
  });

  it('a cleanup that fails under Ctrl-C is named on stderr and its last resort runs', async () => {
    const r = await childWithHandlers(`
      installSignalHandlers({ onSignal: async () => {} });
      registerCleanup('containers of run abc', async () => { throw new Error('engine gone'); }, () => console.log('last resort'));`);
    expect(r.code).toBe(130);
    expect(r.err).toMatch(/tearing down containers of run abc failed: engine gone/);
    expect(r.out).toMatch(/last resort/);
  });
});
