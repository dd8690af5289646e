/**
 * Which calls to a dependency were retries, read from the attempt header the target sends with each
 * call — when it sends one, and when its numbering is the one the scenario says.
 *
 * Services number attempts differently: `x-attempt: 1` on the first try (1-based), or the count of
 * attempts before this one, `0` on the first try (0-based, like gRPC's `grpc-previous-rpc-attempts`).
 * Read with the wrong numbering, a 0-based service's first retries look like first tries, and the
 * biggest wave would be thrown away as "not made of retries". So the header is trusted only when its
 * values fit `firstAttempt`:
 *
 * - no call carries the header → `none`: retries are unknown and waves are judged from counts alone;
 * - a value that is not a whole number, or below `firstAttempt`, or no call at all that is a first try
 *   (carries `firstAttempt`, or goes without the header while others carry it) → `ignored`, with a note
 *   saying why: the header is not what the scenario says it is, and counts alone are safer than a misread;
 * - else `header`: a call is a retry when its value is above `firstAttempt`; a call without the header
 *   (while others carry it) is a first try — some clients only mark their retries.
 */
export interface AttemptReading {
  /** How retries were told apart: from the `header`, or not at all (`none`: no header; `ignored`: see `note`). */
  source: 'header' | 'none' | 'ignored';
  /** Per call, in the order given: `true` a retry, `false` a first try, `undefined` unknown. */
  retry: (boolean | undefined)[];
  /** Why the header was ignored, for the invariant's summary. */
  note?: string;
}

/**
 * Read the attempt header's `values` (one per call, `undefined` where the call did not carry it).
 * `header` (its name) is only used in the note; `firstAttempt` is the value on a first try (0 or 1).
 */
export function readAttempts(
  values: readonly (string | undefined)[],
  header: string,
  firstAttempt: 0 | 1,
): AttemptReading {
  const unknown = (note?: string): AttemptReading => ({
    source: note ? 'ignored' : 'none',
    retry: values.map(() => undefined),
    ...(note ? { note } : {}),
  });
  const parsed = values.map((v) =>
    v === undefined ? undefined : /^\s*\d+\s*$/.test(v) ? Number(v) : Number.NaN,
  );
  const carried = parsed.filter((v) => v !== undefined);
  if (carried.length === 0) return unknown();
  const odd = values.find((v, i) => v !== undefined && Number.isNaN(parsed[i]));
  if (odd !== undefined)
    return unknown(`'${header}: ${odd}' is not an attempt number: the header was ignored`);
  const below = carried.filter((v) => v < firstAttempt).length;
  if (below > 0)
    return unknown(
      `${below} call${below === 1 ? '' : 's'} carried '${header}: 0', below firstAttempt ${firstAttempt}: the service counts from 0 (set firstAttempt: 0); the header was ignored`,
    );
  const firstTries = parsed.filter((v) => v === undefined || v === firstAttempt).length;
  if (firstTries === 0)
    return unknown(
      `no call carried '${header}: ${firstAttempt}' (firstAttempt) or went without it: the service does not count from ${firstAttempt}${firstAttempt === 0 ? ' (set firstAttempt: 1)' : ''}; the header was ignored`,
    );
  return { source: 'header', retry: parsed.map((v) => v !== undefined && v > firstAttempt) };
}
