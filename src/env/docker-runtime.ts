import { existsSync } from 'node:fs';
import { getContainerRuntimeClient } from 'testcontainers';

/** How long `detectContainerRuntime` waits for an engine to answer by default, ms. */
export const RUNTIME_DETECT_TIMEOUT_MS = 3_000;

export type RuntimeProbe =
  | { found: true /** e.g. `Docker 20.10.24 at unix:///var/run/docker.sock` */; description: string }
  | { found: false /** why not, in words */; reason: string };

/**
 * Is there a container runtime whatbreaks can use? Asks testcontainers' own runtime detection (the
 * `DOCKER_HOST` / `~/.testcontainers.properties` / Docker socket / rootless socket strategies it would use
 * to start containers) and gives up after `timeoutMs` (a socket nobody answers on must not hang the run).
 * Never throws.
 */
export async function detectContainerRuntime(timeoutMs = RUNTIME_DETECT_TIMEOUT_MS): Promise<RuntimeProbe> {
  // DOCKER_HOST names the engine the user means: a socket that is not there is "not found", rather than
  // testcontainers quietly falling back to /var/run/docker.sock.
  const dockerHost = process.env.DOCKER_HOST;
  if (dockerHost?.startsWith('unix://') && !existsSync(dockerHost.slice('unix://'.length))) {
    return { found: false, reason: `DOCKER_HOST=${dockerHost}: no such socket` };
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<RuntimeProbe>((resolve) => {
    timer = setTimeout(
      () => resolve({ found: false, reason: `no container runtime answered within ${timeoutMs} ms` }),
      timeoutMs,
    );
    timer.unref();
  });
  const probe = getContainerRuntimeClient().then(
    (client): RuntimeProbe => {
      const info = client.info.containerRuntime;
      return {
        found: true,
        description: `container runtime ${info.serverVersion} (${info.operatingSystem}) at ${info.remoteSocketPath || info.host}`,
      };
    },
    (err: unknown): RuntimeProbe => ({
      found: false,
      // The caller says "no container runtime was found (…)": the reason is only testcontainers' own words.
      reason: `testcontainers: ${(err as Error).message ?? String(err)}`,
    }),
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
