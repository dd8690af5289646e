/**
 * How many connections a burst opens at once while it prepares (every share together), until each has
 * proved the target accepted it (its warm-up answered) or, where nothing can prove it (a fresh
 * connection of a target that does not keep connections alive), until it is open and pre-sent.
 *
 * Why: a listen backlog is often small (Python's `socketserver`, hence `http.server`: 5), and when it is
 * full the kernel drops new handshakes, so the client retries after 1 s, 3 s, 7 s … — or, worse, believes
 * a connection open that the target has not yet accepted, and its pre-sent bytes wait for a
 * retransmission. 200 connections opened at once to a `ThreadingHTTPServer` counted 600–3,400 listen
 * overflows per burst here, warm-ups ran past 30 s, and `naive` requests arrived over 8–28 s. Four at a
 * time stay under the smallest common backlog and add little: a warm-up takes ≈ 0.3–2 ms.
 */
export const CONNECTIONS_IN_FLIGHT = 4;

/**
 * `fn(item, i)` for every item, at most `limit` at a time, in order of `i`; resolves with the results in
 * order, rejects with the first failure (no new item starts after one).
 */
export async function mapPaced<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  return results;
}
