// The checks that the URL parser and the resolvers share. Each throws an InvalidOptionError
// that names the option and the value.
import { InvalidOptionError } from "../errors.js";

export function hostPort(option: string, value: unknown, defaultPort: number): string {
  if (typeof value !== "string") throw new InvalidOptionError(option, value, "a host:port string");
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(value);
  const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
  if (match === null || port < 1 || port > 65535) {
    throw new InvalidOptionError(option, value, "a host:port with a port from 1 to 65535");
  }
  return `${match[1]}:${port}`;
}

export function integer(
  option: string,
  value: unknown,
  min: number,
  max: number,
  unit: string,
): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(
      option,
      value,
      `an integer number of ${unit} from ${min} to ${max}`,
    );
  }
  return value;
}

/**
 * The least safety margin, in milliseconds, for a TTL of `ttlMs`: 1% of the TTL, and at least
 * `absoluteMs`. See docs/safety.md ("The safety margin") for why these figures.
 */
export function marginFloor(ttlMs: number, absoluteMs: number): number {
  return Math.max(absoluteMs, Math.ceil(ttlMs / 100));
}

/** A safety margin from the floor to half the TTL; `fallback` when none is given. */
export function margin(value: unknown, ttlMs: number, fallback: number, floor: number): number {
  const max = Math.floor(ttlMs / 2);
  return integer(
    "safetyMarginMs",
    value ?? Math.max(floor, Math.min(fallback, max)),
    floor,
    max,
    "milliseconds",
  );
}

export function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) < 0x20) return true;
  }
  return false;
}

/** ZooKeeper refuses `.` and `..` path elements, and etcd keys with them confuse everyone. */
export function hasDotSegment(path: string): boolean {
  return path.split("/").some((part) => part === "." || part === "..");
}

/** The most bytes of UTF-8 that a campaign's or a proclaim's value may take, on every backend. */
export const maxValueBytes = 256 * 1024;

/** Whether `text` is well-formed Unicode: no lone surrogate, which UTF-8 cannot carry. */
export function isWellFormed(text: string): boolean {
  // String.prototype.isWellFormed: on Node 20 and later, not yet in TypeScript's ES2023 lib.
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Refuses a key of `object` that is not in `known`: a misspelt option (`ttl` for
 * `ttlSeconds`) must not silently leave the default in place.
 *
 * @param what names the options in the message, for example "the etcd backend's options".
 */
export function rejectUnknownKeys(
  object: object,
  known: Readonly<Record<string, true>>,
  what: string,
): void {
  for (const key of Object.keys(object)) {
    if (!Object.hasOwn(known, key)) {
      throw new InvalidOptionError(
        key,
        (object as Record<string, unknown>)[key],
        `one of ${what} (${Object.keys(known).join(", ")})`,
      );
    }
  }
}

/** Checks that `options` is an object or undefined, with only `known` keys. */
export function optionsObject(
  option: string,
  options: unknown,
  known: Readonly<Record<string, true>>,
  what: string,
): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(option, options, `an object of ${what}, or undefined`);
  }
  rejectUnknownKeys(options, known, what);
}

/**
 * Checks a value to advertise: a well-formed string of at most {@link maxValueBytes} bytes of
 * UTF-8, the limit every backend shares.
 */
export function advertisedValue(value: unknown): string {
  if (typeof value !== "string" || !isWellFormed(value)) {
    throw new InvalidOptionError("value", value, "a string of well-formed Unicode");
  }
  // Counting bytes costs a pass over the string: only when it may be over the limit.
  if (value.length > maxValueBytes / 3 && Buffer.byteLength(value, "utf8") > maxValueBytes) {
    throw new InvalidOptionError(
      "value",
      value,
      `at most ${maxValueBytes} bytes of UTF-8 (maxValueBytes), not ${Buffer.byteLength(value, "utf8")}`,
    );
  }
  return value;
}

/** Checks that `signal` is an AbortSignal or undefined. */
export function abortSignal(option: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  throw new InvalidOptionError(option, signal, "an AbortSignal, or undefined");
}
