import { isIP } from 'node:net';
import { WhatbreaksError } from '../errors.js';

/**
 * Safe by default: whatbreaks sends load and faults only to this machine (loopback) or to what the run
 * itself created (child processes, containers on the run's network). A scenario pointing at any other
 * host — an external `target.url`, an existing `database.url` — is refused unless the user passes
 * `--allow-remote`, and then a warning names each remote host.
 */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    // ::1, and IPv4-mapped 127.0.0.0/8 in either spelling (::ffff:127.0.0.1, ::ffff:7f00:1).
    return h === '::1' || h.startsWith('::ffff:127.') || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(h);
  }
  return false;
}

/**
 * Check every address a run will send to before anything is sent.
 * @param addresses what will be contacted, e.g. `{ what: 'target.url', url: 'http://staging:8080' }`.
 * @returns warnings to print (one per remote host) when `allowRemote` is set.
 * @throws WhatbreaksError `REMOTE_NOT_ALLOWED` (exit 2) naming the first remote address otherwise.
 */
export function checkAddresses(
  addresses: readonly { what: string; url: string }[],
  allowRemote: boolean,
): string[] {
  const warnings: string[] = [];
  for (const { what, url } of addresses) {
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      throw new WhatbreaksError('USAGE', `${what} is not a URL: ${url}`);
    }
    if (isLoopback(host)) continue;
    if (!allowRemote) {
      throw new WhatbreaksError(
        'REMOTE_NOT_ALLOWED',
        `${what} points at ${host}, which is not this machine: whatbreaks sends load and faults only to loopback unless told otherwise`,
        'if you own that system and mean to load it, run again with --allow-remote',
      );
    }
    warnings.push(`--allow-remote: ${what} is ${host}, a remote host; its load and faults are real`);
  }
  return warnings;
}
