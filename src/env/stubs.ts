/**
 * Stub services shipped with whatbreaks, runnable from the installed package (`whatbreaks stub <name>`)
 * so a scenario outside this repository can use one as a dependency's `command`:
 *
 * ```yaml
 * dependencies:
 *   upstream:
 *     command: npx whatbreaks stub upstream --latency-ms 500   # listens on $PORT, given by whatbreaks
 * ```
 *
 * Each stub is a compiled example target (`dist/targets/<name>/server.js`) configured by environment
 * variables; the CLI maps its options onto them and loads the module in its own process, so the stub's
 * pid is the command's pid and SIGTERM stops it. `docs/scenarios.md` prints this catalogue.
 */
export interface StubOption {
  /** Command-line flag, e.g. `--latency-ms <ms>`. */
  flag: string;
  /** Environment variable the stub reads it from. */
  env: string;
  description: string;
  /** Default, as the stub applies it. */
  defaultValue: string;
}

export interface StubService {
  name: string;
  /** Module under the package's `dist/`. */
  module: string;
  summary: string;
  /** Endpoints, one per line (`POST /charge → 200 …`). */
  endpoints: string[];
  options: StubOption[];
  /** Its database schema, relative to the package root (`--print-schema`). */
  schema?: string;
  /** What else it needs (a database), if anything. */
  needs?: string;
}

const port: StubOption = {
  flag: '--port <port>',
  env: 'PORT',
  description: 'Port to listen on; as a dependency whatbreaks passes it in `PORT` already.',
  defaultValue: '$PORT, else the stub’s own (upstream 3100, payments 3000)',
};
const host: StubOption = {
  flag: '--host <host>',
  env: 'HOST',
  description: 'Address to listen on.',
  defaultValue: '127.0.0.1',
};

export const STUBS: readonly StubService[] = [
  {
    name: 'upstream',
    module: 'targets/upstream/server.js',
    summary:
      'A fake payment provider: answers every call after a fixed latency, records who called (`x-client-id`, `x-attempt`). Outages come from the fault proxy in front of it (`upstream-down`, `http-fault`), not from the stub.',
    endpoints: [
      'POST /charge (any path) → 200 {"ok":true,"charged":true} after the latency',
      'GET /__arrivals → every request seen: [{atMs, clientId, attempt, path}]; DELETE /__arrivals forgets them',
      'GET /health → 200',
    ],
    options: [
      port,
      host,
      {
        flag: '--latency-ms <ms>',
        env: 'LATENCY_MS',
        description: 'Time each call takes, ms.',
        defaultValue: '500',
      },
      {
        flag: '--jitter-ms <ms>',
        env: 'JITTER_MS',
        description: 'Uniform ± variation of the latency, ms.',
        defaultValue: '0',
      },
    ],
  },
  {
    name: 'payments',
    module: 'targets/payments/server.js',
    schema: 'targets/payments/schema.sql',
    summary:
      'A payment service that charges orders and honours `Idempotency-Key` (variant `fixed`) or ignores it (variant `buggy`, charges twice on a retry).',
    endpoints: [
      'POST /api/payments {order_id, amount} [Idempotency-Key] → 201 {charge_id, order_id, amount}; 422 when a key is reused with another request',
      'GET /health → 200',
    ],
    options: [
      port,
      host,
      {
        flag: '--variant <buggy|fixed>',
        env: 'VARIANT',
        description: 'Ignore (`buggy`) or honour (`fixed`) the `Idempotency-Key` header.',
        defaultValue: 'buggy',
      },
      {
        flag: '--charge-ms <ms>',
        env: 'CHARGE_MS',
        description: 'Time the card network takes per charge, ms.',
        defaultValue: '50',
      },
    ],
    needs:
      'a PostgreSQL database in `DATABASE_URL` with its schema (`whatbreaks stub payments --print-schema` prints the SQL; as a target, give it as `database.schema`)',
  },
];

/** The stub called `name`, or undefined. */
export function stubNamed(name: string): StubService | undefined {
  return STUBS.find((s) => s.name === name);
}
