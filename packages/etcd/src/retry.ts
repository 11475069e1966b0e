import { raceSignal } from "@elector/core/backend";
import pRetry from "p-retry";
import { isTransient } from "./client.js";

/** How {@link retrying} waits between attempts. */
export interface RetryOptions {
  /** Stops retrying (and waiting for the attempt under way): rejects with the signal's reason. */
  readonly signal: AbortSignal;
  /** Gives up after this long, in milliseconds. @defaultValue no limit */
  readonly maxRetryTimeMs?: number;
  /** Called before each wait. */
  readonly onRetry?: (error: unknown, attempt: number) => void;
}

/**
 * Runs `operation` until it succeeds, retrying transient etcd errors (an unreachable member,
 * a timeout, a leader election) from 50 ms, doubling with jitter, up to 1 s apart. Any other
 * error rejects at once.
 */
export function retrying<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { signal } = options;
  return pRetry(() => raceSignal(operation(), signal), {
    retries: Number.POSITIVE_INFINITY,
    factor: 2,
    minTimeout: 50,
    maxTimeout: 1000,
    randomize: true,
    signal,
    ...(options.maxRetryTimeMs === undefined ? {} : { maxRetryTime: options.maxRetryTimeMs }),
    shouldRetry: ({ error, attemptNumber }) => {
      if (signal.aborted || !isTransient(error)) return false;
      options.onRetry?.(error, attemptNumber);
      return true;
    },
  });
}
