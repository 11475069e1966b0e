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
