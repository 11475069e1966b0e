import { InvalidFencingOptionError } from "./errors.js";

/** Options of one {@link Fence} call. */
export interface FenceCallOptions {
  /**
   * Stops waiting for the store: the call rejects with the signal's reason. A request already
   * sent may still be applied, so an aborted `admit` may have recorded its token; admitting
   * the same token again is safe.
   */
  readonly signal?: AbortSignal;
}

/**
 * The resource-side fence: it remembers, per resource, the highest fencing token it has
 * admitted, and refuses lower ones. A deposed leader that wakes from a pause still holds its
 * old token, so its writes are refused once its successor has written.
 *
 * Implementations: {@link MemoryFence} (one process), {@link EtcdFence} (many resource
 * servers sharing etcd), {@link PostgresFence} (the check commits with the caller's write).
 *
 * @remarks
 * The fence orders admissions, not the writes that follow them. For the write itself to be
 * refused, the check and the write must be atomic with respect to other writers of the same
 * resource: run them in one transaction ({@link PostgresFence.transaction}, the `operations`
 * of {@link EtcdFence.admit}), or serialize them per resource in one process (the HTTP
 * middleware does, by default).
 *
 * Deliberately left out: deleting or lowering a resource's high-water mark. A fence that
 * forgets lets a deposed leader back in.
 */
export interface Fence {
  /**
   * Admits `token` for `resource` if it is no lower than the highest token admitted for that
   * resource, and records it as the highest; atomically, so that of two concurrent admits a
   * stale token never passes. A token equal to the highest is admitted again: a leader
   * writes many times in one term.
   *
   * @throws StaleTokenError if a higher token was admitted; it carries both tokens.
   * @throws InvalidFencingTokenError if `token` is not a bigint from 1 to 2^63 − 1.
   * @throws FenceStoreError if the store failed; the token may or may not be recorded.
   */
  admit(resource: string, token: bigint, options?: FenceCallOptions): Promise<void>;
  /** The highest token admitted for `resource`, or `undefined` if none was. */
  highest(resource: string, options?: FenceCallOptions): Promise<bigint | undefined>;
}

/** The longest resource name a fence accepts, in characters. */
export const maxResourceLength = 512;

/** @internal Validates a resource name, naming the argument in the error. */
export function checkResource(resource: unknown): string {
  if (
    typeof resource !== "string" ||
    resource.length === 0 ||
    resource.length > maxResourceLength
  ) {
    throw new InvalidFencingOptionError(
      "resource",
      resource,
      `a non-empty string of at most ${maxResourceLength} characters`,
    );
  }
  return resource;
}

/** @internal Validates the `signal` of call options. */
export function checkSignal(options: FenceCallOptions | undefined): AbortSignal | undefined {
  const signal = options?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidFencingOptionError("signal", signal, "an AbortSignal");
  }
  signal?.throwIfAborted();
  return signal;
}

/**
 * @internal Settles with `work`, or rejects with the signal's reason as soon as it aborts.
 * The work itself cannot be recalled.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
