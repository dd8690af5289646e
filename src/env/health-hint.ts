/**
 * What to tell the user when a target never answered its health check: the path that was polled, the
 * port the target was given and how it was given (the `PORT` variable — or `target.portEnv` — and
 * `{{port}}` in the command), and what the last poll saw. "Raise timeoutMs" is the right advice only
 * when the target answered something or was still starting; a target that never listened on the port
 * most likely does not read it, and one that answers 404 serves another health path.
 */
export interface HealthFailure {
  /** Where its settings are in the scenario: `target` or `dependencies.upstream`. */
  block: string;
  path: string;
  port: number;
  portEnv: string;
  /** The command had `{{port}}` in it (so the port was also given there). */
  portInCommand: boolean;
  timeoutMs: number;
  /** The last poll's status, if it got one. */
  lastStatus?: number;
  /** The last poll's error code, if it got no status (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, …). */
  lastError?: string;
}

/** The hint for a `TARGET_UNHEALTHY` error. */
export function unhealthyHint(f: HealthFailure): string {
  const given = `it was given port ${f.port} in $${f.portEnv}${f.portInCommand ? ' and as {{port}} in its command' : ''}`;
  if (f.lastStatus === 404 || f.lastStatus === 405) {
    return `GET ${f.path} on port ${f.port} answered ${f.lastStatus}: set ${f.block}.health.path to a path the target answers with 2xx (${given})`;
  }
  if (f.lastStatus !== undefined) {
    return `GET ${f.path} on port ${f.port} answered ${f.lastStatus}, not 2xx: make it answer 2xx once the target is ready, or set ${f.block}.health.path to a path that does; raise ${f.block}.health.timeoutMs (now ${f.timeoutMs} ms) if it is just slow to start`;
  }
  if (f.lastError === 'ECONNREFUSED') {
    return `nothing listened on 127.0.0.1:${f.port}: ${given} — make it listen there (e.g. read the ${f.portEnv} environment variable, or set ${f.block}.portEnv to the variable it reads); raise ${f.block}.health.timeoutMs (now ${f.timeoutMs} ms) only if it is just slow to start`;
  }
  return `GET ${f.path} on port ${f.port} got no answer (${f.lastError ?? 'none'}); ${given}; check that it serves HTTP there, or raise ${f.block}.health.timeoutMs (now ${f.timeoutMs} ms) if it is just slow to start`;
}
