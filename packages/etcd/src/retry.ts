import { BackendError } from "@elector/core";
import { raceSignal } from "@elector/core/backend";
import { GRPCResourceExhastedError } from "etcd3";
import pRetry from "p-retry";
import { backendError, isTransient } from "./client.js";

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
 * error, and a request too large for the server, rejects at once.
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
      if (signal.aborted || isTooLarge(error) || !isTransient(error)) return false;
      options.onRetry?.(error, attemptNumber);
      return true;
    },
  });
}

/**
 * Whether etcd refused a request for its size: gRPC's RESOURCE_EXHAUSTED ("received message
 * larger than max", past etcd's `--max-request-bytes` + 512 KiB) or etcd's own "request is too
 * large" (past `--max-request-bytes`). etcd3 takes RESOURCE_EXHAUSTED for recoverable, but the
 * same request is refused every time: retrying it would hang a campaign while the keep-alives
 * kept its deadline moving.
 */
export function isTooLarge(error: unknown): boolean {
  if (error instanceof GRPCResourceExhastedError) return true;
  return (
    error instanceof Error &&
    /RESOURCE_EXHAUSTED|larger than max|request is too large/i.test(error.message)
  );
}

/**
 * {@link backendError}, except that a request too large for the server is a `BackendError`
 * (not retryable): the same request would be refused again.
 */
export function requestError(operation: string, error: unknown): Error {
  if (isTooLarge(error)) {
    const detail = (error as Error).message;
    return new BackendError(
      `${operation} failed: etcd refused the request as too large: ${detail}`,
      {
        cause: error,
      },
    );
  }
  return backendError(operation, error);
}
