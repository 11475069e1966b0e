/** The stable `code` of every {@link FencingError}. */
export type FencingErrorCode =
  | "stale-token"
  | "stale-leader"
  | "invalid-token"
  | "invalid-option"
  | "store-failed";

// Symbol.for: the brand is the same symbol in every copy of this package that an app loads,
// so the guards below still work when two versions of @elector/fencing are installed.
const brand = Symbol.for("@elector/fencing/error");

/**
 * The base of every error that `@elector/fencing` throws. Test with {@link isFencingError}
 * and the other guards rather than `instanceof`, which fails across duplicate installs.
 */
export class FencingError extends Error {
  /** Always `"FencingError"`. */
  override readonly name: string = "FencingError";
  /** A stable machine-readable code. */
  readonly code: FencingErrorCode;
  /**
   * Whether trying the same operation again may succeed: true for a store that could not be
   * reached, false for a stale token, which stays stale.
   */
  readonly retryable: boolean;

  constructor(
    code: FencingErrorCode,
    message: string,
    options: { cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    Object.defineProperty(this, brand, { value: true });
  }
}

/**
 * A fence refused a token lower than the highest it has admitted for the resource: the
 * writer was deposed, and a newer leader has written since. Retrying with the same token
 * never succeeds.
 *
 * @example
 * ```ts
 * try {
 *   await fence.admit("orders", leadership.token);
 * } catch (error) {
 *   if (isStaleTokenError(error)) leadership.resign(); // a newer leader exists
 *   throw error;
 * }
 * ```
 */
export class StaleTokenError extends FencingError {
  /** Always `"StaleTokenError"`. */
  override readonly name: string = "StaleTokenError";
  declare readonly code: "stale-token";
  /** The resource whose fence refused the token. */
  readonly resource: string;
  /** The token the writer presented. */
  readonly presented: bigint;
  /** The highest token the fence had admitted for the resource, greater than `presented`. */
  readonly highest: bigint;

  constructor(resource: string, presented: bigint, highest: bigint) {
    super(
      "stale-token",
      `fencing token ${presented} is stale for resource ${JSON.stringify(resource)}: token ${highest} was already admitted, so a newer leader has written`,
    );
    this.resource = resource;
    this.presented = presented;
    this.highest = highest;
  }
}

/**
 * A guarded write on the coordination store was not applied, because the leader's key no
 * longer exists with the leader's token as its create revision: that term has ended (its
 * lease expired, it resigned, or its key was deleted). The caller's operations did nothing.
 */
export class StaleLeaderError extends FencingError {
  /** Always `"StaleLeaderError"`. */
  override readonly name: string = "StaleLeaderError";
  declare readonly code: "stale-leader";
  /** The leader key that the guard checked, or the key prefix it searched. */
  readonly key: string;
  /** The token (create revision) the guard required. */
  readonly token: bigint;
  /** The create revision of the key found there instead, if any. */
  readonly current: bigint | undefined;

  constructor(key: string, token: bigint, current: bigint | undefined, detail: string) {
    super(
      "stale-leader",
      `the guarded write was not applied: the term with token ${token} has ended (${detail})`,
    );
    this.key = key;
    this.token = token;
    this.current = current;
  }
}

/**
 * A value is not a fencing token: tokens are integers from 1 to 2^63 − 1, written in
 * decimal without sign, leading zeros or exponent. The message names where the value came
 * from (a header, a JSON field, an argument) and the value.
 */
export class InvalidFencingTokenError extends FencingError {
  /** Always `"InvalidFencingTokenError"`. */
  override readonly name: string = "InvalidFencingTokenError";
  declare readonly code: "invalid-token";
  /** Where the value came from, for example `Fencing-Token header` or `token`. */
  readonly source: string;
  /** The rejected value. */
  readonly value: unknown;

  constructor(source: string, value: unknown, options: { cause?: unknown; detail?: string } = {}) {
    super(
      "invalid-token",
      value === undefined
        ? `${source} is missing: a fencing token is required`
        : `${source} must be a fencing token, an integer from 1 to 9223372036854775807 in decimal, got ${describeValue(value)}${options.detail === undefined ? "" : `: ${options.detail}`}`,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.source = source;
    this.value = value;
  }
}

/**
 * An option or argument is invalid. The message names it and the value.
 *
 * @example
 * ```ts
 * new InvalidFencingOptionError("prefix", 7, "a string")
 * // prefix must be a string, got 7
 * ```
 */
export class InvalidFencingOptionError extends FencingError {
  /** Always `"InvalidFencingOptionError"`. */
  override readonly name: string = "InvalidFencingOptionError";
  declare readonly code: "invalid-option";
  /** The option's or argument's name as the caller wrote it, for example `table`. */
  readonly option: string;
  /** The rejected value. */
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string) {
    super("invalid-option", `${option} must be ${expected}, got ${describeValue(value)}`);
    this.option = option;
    this.value = value;
  }
}

/**
 * The fence's store (etcd, PostgreSQL) failed to answer. Whether the token was recorded is
 * unknown; admitting the same token again is safe, since a fence admits a token equal to
 * the highest. The store's own error is the `cause`.
 */
export class FenceStoreError extends FencingError {
  /** Always `"FenceStoreError"`. */
  override readonly name: string = "FenceStoreError";
  declare readonly code: "store-failed";

  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super("store-failed", message, { retryable: true, ...options });
  }
}

/** Whether `error` is a {@link FencingError} from any copy of `@elector/fencing`. */
export function isFencingError(error: unknown): error is FencingError {
  return typeof error === "object" && error !== null && brand in error;
}

/** Whether `error` is a {@link StaleTokenError} from any copy of `@elector/fencing`. */
export function isStaleTokenError(error: unknown): error is StaleTokenError {
  return isFencingError(error) && error.code === "stale-token";
}

/** Whether `error` is a {@link StaleLeaderError} from any copy of `@elector/fencing`. */
export function isStaleLeaderError(error: unknown): error is StaleLeaderError {
  return isFencingError(error) && error.code === "stale-leader";
}

/** Whether `error` is an {@link InvalidFencingTokenError} from any copy of `@elector/fencing`. */
export function isInvalidFencingTokenError(error: unknown): error is InvalidFencingTokenError {
  return isFencingError(error) && error.code === "invalid-token";
}

/** Whether `error` is a {@link FenceStoreError} from any copy of `@elector/fencing`. */
export function isFenceStoreError(error: unknown): error is FenceStoreError {
  return isFencingError(error) && error.code === "store-failed";
}

/**
 * Whether the operation that failed with `error` may succeed if tried again: a store that
 * could not answer. A stale token or leader never becomes fresh. Suits p-retry's
 * `shouldRetry`.
 *
 * @example
 * ```ts
 * await pRetry(() => fence.admit("orders", token), {
 *   shouldRetry: ({ error }) => isRetryableFencingError(error),
 * });
 * ```
 */
export function isRetryableFencingError(error: unknown): boolean {
  return isFencingError(error) && error.retryable;
}

function describeValue(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}
