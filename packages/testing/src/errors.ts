/**
 * The stable `code` of a {@link TestingSetupError}.
 *
 * - `docker-unavailable`: no Docker engine answers.
 * - `image-missing`: the image is not on the engine and pulling it failed.
 * - `ryuk-unavailable`: testcontainers' reaper (Ryuk) did not start, typically because its image
 *   cannot be pulled; the message says to set `TESTCONTAINERS_RYUK_DISABLED=true`.
 * - `invalid-image`: an image name (argument or environment variable) is empty or malformed.
 * - `invalid-option`: another argument is out of range or malformed.
 * - `start-failed`: a container was created but did not start or did not become ready.
 * - `not-ready`: a started server did not answer again in time (after a restart, for example).
 * - `docker-failed`: a Docker call behind a fault or a removal failed.
 * - `probe-failed`: a request to the server itself (a four-letter word, for example) failed.
 */
export type TestingSetupErrorCode =
  | "docker-unavailable"
  | "image-missing"
  | "ryuk-unavailable"
  | "invalid-image"
  | "invalid-option"
  | "start-failed"
  | "not-ready"
  | "docker-failed"
  | "probe-failed";

// Symbol.for: the same brand in every copy of this package, so the guard below still works
// when a test tree ends up with two installs of @elector/testing.
const brand = Symbol.for("@elector/testing/error");

/**
 * What every function and class of `@elector/testing` throws: one message that says what went
 * wrong and what to do, with the Docker client's own error kept as `cause`. Test with
 * {@link isTestingSetupError} rather than `instanceof`.
 *
 * @example
 * ```ts
 * try {
 *   await new EtcdContainer().start();
 * } catch (error) {
 *   if (isTestingSetupError(error) && error.code === "docker-unavailable") console.error(error.message);
 *   throw error;
 * }
 * ```
 */
export class TestingSetupError extends Error {
  override readonly name: string = "TestingSetupError";
  /** A stable machine-readable code. */
  readonly code: TestingSetupErrorCode;

  constructor(code: TestingSetupErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    Object.defineProperty(this, brand, { value: true });
  }
}

/** Whether `error` is a {@link TestingSetupError}, from this or any other copy of the package. */
export function isTestingSetupError(error: unknown): error is TestingSetupError {
  return typeof error === "object" && error !== null && brand in error;
}

/** The message of any thrown value, for embedding in a message of our own. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
