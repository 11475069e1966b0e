/**
 * Why a leadership ended. Each is the `code` of the {@link LeadershipLostError} that aborts
 * `leadership.signal`.
 *
 * - `resigned`: the leader called `resign()`.
 * - `closed`: the elector was closed while leading.
 * - `lease-expired`: the server says the lease is gone (etcd).
 * - `session-expired`: the server says the session is gone (ZooKeeper).
 * - `deleted`: someone else deleted or changed the leader's key or node.
 * - `deadline-passed`: no renewal was acknowledged in time; stepped down locally, before the
 *   server could elect a successor.
 * - `connection-lost`: the connection failed for longer than leadership may outlive it.
 */
export type LossReason =
  | "resigned"
  | "closed"
  | "lease-expired"
  | "session-expired"
  | "deleted"
  | "deadline-passed"
  | "connection-lost";

/** Every loss reason, in a stable order. */
export const lossReasons: readonly LossReason[] = Object.freeze([
  "resigned",
  "closed",
  "lease-expired",
  "session-expired",
  "deleted",
  "deadline-passed",
  "connection-lost",
]);

/** The stable `code` of every {@link ElectorError}. */
export type ElectorErrorCode =
  | LossReason
  | "invalid-option"
  | "backend-not-installed"
  | "elector-closed"
  | "campaign-in-progress"
  | "connection-failed"
  | "backend-failed";

// Symbol.for: the brand is the same symbol in every copy of this package that an app loads,
// so the guards below still work when two versions of @elector/core are installed.
const brand = Symbol.for("@elector/core/error");

/**
 * The base of every error that elector throws or reports. Test with {@link isElectorError}
 * rather than `instanceof`, which fails across duplicate installs.
 */
export class ElectorError extends Error {
  /** Always `"ElectorError"`. */
  override readonly name: string = "ElectorError";
  /** A stable machine-readable code. */
  readonly code: ElectorErrorCode;
  /** Whether trying the same operation again may succeed. See {@link isRetryableError}. */
  readonly retryable: boolean;

  constructor(
    code: ElectorErrorCode,
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
 * An option or URL part is invalid. The message names the option and the value, and never
 * contains a credential.
 *
 * @example
 * ```ts
 * new InvalidOptionError("ttlSeconds", 0.5, "an integer number of seconds from 2 to 3600")
 * // ttlSeconds must be an integer number of seconds from 2 to 3600, got 0.5
 * ```
 */
export class InvalidOptionError extends ElectorError {
  /** Always `"InvalidOptionError"`. */
  override readonly name: string = "InvalidOptionError";
  /** The option's name as the caller wrote it, for example `ttlSeconds` or `url`. */
  readonly option: string;
  /** The rejected value, or `"[redacted]"` for a credential. */
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string, options: { cause?: unknown } = {}) {
    super("invalid-option", `${option} must be ${expected}, got ${describeValue(value)}`, options);
    this.option = option;
    this.value = value;
  }
}

/** The configuration chose a backend whose package is not installed. */
export class BackendNotInstalledError extends ElectorError {
  /** Always `"BackendNotInstalledError"`. */
  override readonly name: string = "BackendNotInstalledError";
  /** The package to install, for example `@elector/etcd`. */
  readonly packageName: string;

  constructor(backend: string, packageName: string, cause: unknown) {
    super(
      "backend-not-installed",
      `the ${backend} backend needs the package ${packageName}: install it (npm install ${packageName})`,
      { cause },
    );
    this.packageName = packageName;
  }
}

/** The elector was closed: pending and later calls settle with this. */
export class ElectorClosedError extends ElectorError {
  /** Always `"ElectorClosedError"`. */
  override readonly name: string = "ElectorClosedError";
  constructor(operation: string) {
    super("elector-closed", `${operation} failed: the elector is closed`);
  }
}

/** `campaign()` was called while an earlier campaign or term of the same elector is under way. */
export class CampaignInProgressError extends ElectorError {
  /** Always `"CampaignInProgressError"`. */
  override readonly name: string = "CampaignInProgressError";
  constructor() {
    super(
      "campaign-in-progress",
      "campaign() was called while this elector is already campaigning or leading; one elector is one candidate",
    );
  }
}

/** The coordination service could not be reached or answered with a transient failure. */
export class ConnectionError extends ElectorError {
  /** Always `"ConnectionError"`. */
  override readonly name: string = "ConnectionError";
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("connection-failed", message, { ...options, retryable: true });
  }
}

/** The coordination service refused an operation for a reason retrying will not fix. */
export class BackendError extends ElectorError {
  /** Always `"BackendError"`. */
  override readonly name: string = "BackendError";
  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super("backend-failed", message, options);
  }
}

/**
 * Leadership ended. It is the `reason` of the aborted `leadership.signal`, and what
 * `proclaim()` rejects with afterwards. The backend's own error, if any, is the `cause`.
 */
export class LeadershipLostError extends ElectorError {
  /** Always `"LeadershipLostError"`. */
  override readonly name: string = "LeadershipLostError";
  declare readonly code: LossReason;

  constructor(reason: LossReason, message: string, options: { cause?: unknown } = {}) {
    // A candidate that lost may campaign again, unless it chose to stop.
    super(reason, message, { ...options, retryable: reason !== "resigned" && reason !== "closed" });
  }
}

/** Whether `error` is an {@link ElectorError} from any copy of `@elector/core`. */
export function isElectorError(error: unknown): error is ElectorError {
  return typeof error === "object" && error !== null && brand in error;
}

/** Whether `error` is a {@link LeadershipLostError} from any copy of `@elector/core`. */
export function isLeadershipLostError(error: unknown): error is LeadershipLostError {
  return isElectorError(error) && (lossReasons as readonly string[]).includes(error.code);
}

/** Whether `error` is an {@link InvalidOptionError} from any copy of `@elector/core`. */
export function isInvalidOptionError(error: unknown): error is InvalidOptionError {
  return isElectorError(error) && error.code === "invalid-option";
}

/**
 * Whether the operation that failed with `error` may succeed if tried again: connection
 * failures and losses other than `resigned` and `closed`. Suits p-retry's `shouldRetry`.
 *
 * @example
 * ```ts
 * await pRetry(() => elector.campaign(), { shouldRetry: ({ error }) => isRetryableError(error) });
 * ```
 */
export function isRetryableError(error: unknown): boolean {
  return isElectorError(error) && error.retryable;
}

/** Whether `error` is what an aborted signal rejects with (a DOMException named AbortError). */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

function describeValue(value: unknown): string {
  if (typeof value === "string") {
    // A value refused for its size must not make a message as large.
    if (value.length <= 200) return JSON.stringify(value);
    return `${JSON.stringify(value.slice(0, 40))}… (${value.length} characters)`;
  }
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}
