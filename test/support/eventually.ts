import { setTimeout as delay } from "node:timers/promises";

/**
 * Runs `attempt` until it resolves and returns its value, or throws its last error once
 * `timeoutMs` has passed, even if an attempt is still pending then. For conditions that
 * become true within a bound the test derives from configuration (an election timeout, a
 * ZooKeeper sync limit), never a bare sleep.
 */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  attempt: () => PromiseLike<T>,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const outcome = await settledWithin(
      Promise.resolve().then(attempt),
      Math.max(0, deadline - Date.now()),
    );
    if (outcome.state === "fulfilled") return outcome.value;
    if (outcome.state === "rejected") lastError = outcome.reason;
    if (outcome.state === "pending" || Date.now() + intervalMs > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms`, { cause: lastError });
    }
    await delay(intervalMs);
  }
}

/** How a promise settled within a time, or that it had not. */
export type Settlement<T> =
  | { readonly state: "fulfilled"; readonly value: T }
  | { readonly state: "rejected"; readonly reason: unknown }
  | { readonly state: "pending" };

/**
 * Resolves with how `promise` settled, or `"pending"` if it has not within `ms`: to assert
 * that a request is not answered while a fault lasts.
 */
export async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<Settlement<T>> {
  const timer = new AbortController();
  const settled = promise.then(
    (value): Settlement<T> => ({ state: "fulfilled", value }),
    (reason: unknown): Settlement<T> => ({ state: "rejected", reason }),
  );
  const expired = delay(ms, undefined, { signal: timer.signal }).then(
    (): Settlement<T> => ({ state: "pending" }),
    (): Settlement<T> => ({ state: "pending" }),
  );
  try {
    return await Promise.race([settled, expired]);
  } finally {
    timer.abort();
  }
}
