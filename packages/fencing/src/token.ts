import { InvalidFencingTokenError } from "./errors.js";

/**
 * A fencing token: a positive 64-bit integer, as a `bigint`. Each term of leadership gets a
 * token strictly greater than every earlier term's (`leadership.token`); a resource that
 * remembers the highest token it admitted can refuse a deposed leader.
 *
 * Tokens are etcd revisions or ZooKeeper zxids, which pass 2^53 in long-lived clusters, so
 * they never travel as JSON numbers: `FencingToken.format` and
 * `FencingToken.toJSON` write decimal strings, and the parsers refuse anything that
 * may have lost precision.
 */
export type FencingToken = bigint;

const MIN = 1n;
// etcd revisions and ZooKeeper zxids are signed 64-bit; PostgreSQL's bigint is too.
const MAX = 2n ** 63n - 1n;
const DECIMAL = /^[1-9][0-9]{0,18}$/;

function is(value: unknown): value is bigint {
  return typeof value === "bigint" && value >= MIN && value <= MAX;
}

function check(value: unknown, source = "token"): bigint {
  if (!is(value)) throw new InvalidFencingTokenError(source, value);
  return value;
}

function parse(text: string, source = "token"): bigint {
  if (typeof text !== "string" || !DECIMAL.test(text)) {
    throw new InvalidFencingTokenError(source, text);
  }
  const token = BigInt(text);
  if (token > MAX) throw new InvalidFencingTokenError(source, text);
  return token;
}

function format(token: bigint): string {
  return check(token).toString();
}

function fromHeader(
  value: string | readonly string[] | undefined,
  header = "Fencing-Token",
): bigint {
  const source = `${header} header`;
  if (value === undefined) throw new InvalidFencingTokenError(source, undefined);
  if (typeof value !== "string") {
    if (value.length === 1 && typeof value[0] === "string") return fromHeader(value[0], header);
    throw new InvalidFencingTokenError(source, value, {
      detail: "send the header once, with one token",
    });
  }
  // HTTP allows optional whitespace around a field value; nothing else.
  const trimmed = value.trim();
  if (trimmed.includes(",")) {
    throw new InvalidFencingTokenError(source, value, {
      detail: "send the header once, with one token",
    });
  }
  return parse(trimmed, source);
}

function fromJSON(value: unknown, source = "token"): bigint {
  if (typeof value === "string") return parse(value, source);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new InvalidFencingTokenError(source, value, {
        detail:
          "a JSON number above 2^53 may have lost precision already; send tokens as decimal strings",
      });
    }
    return check(BigInt(value), source);
  }
  if (typeof value === "bigint") return check(value, source);
  throw new InvalidFencingTokenError(source, value);
}

function toJSON(token: bigint): string {
  return format(token);
}

function compare(a: bigint, b: bigint): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

function max(first: bigint, ...rest: bigint[]): bigint {
  let highest = first;
  for (const token of rest) if (token > highest) highest = token;
  return highest;
}

/**
 * Helpers for {@link FencingToken} values: validate, parse and format them for HTTP headers
 * and JSON without precision loss, and compare them.
 *
 * @example
 * ```ts
 * const headers = { "Fencing-Token": FencingToken.format(leadership.token) };
 * const body = JSON.stringify({ token: FencingToken.toJSON(leadership.token) });
 * const token = FencingToken.fromJSON(JSON.parse(body).token); // a bigint again
 * ```
 */
export const FencingToken = Object.freeze({
  /** The lowest token: 1. */
  MIN,
  /** The highest token: 2^63 − 1, the largest etcd revision or ZooKeeper zxid. */
  MAX,
  /** Whether `value` is a fencing token: a bigint from 1 to 2^63 − 1. */
  is,
  /**
   * Returns `value` if it is a fencing token.
   *
   * @param source what the value is, for the error message.
   * @defaultValue source `"token"`
   * @throws InvalidFencingTokenError otherwise.
   */
  check,
  /**
   * Parses a token written in decimal: digits only, no sign, leading zero, space or exponent.
   *
   * @throws InvalidFencingTokenError if `text` is not exactly that.
   */
  parse,
  /**
   * Writes a token in decimal, as `FencingToken.parse` reads it.
   *
   * @throws InvalidFencingTokenError if `token` is not a fencing token.
   */
  format,
  /**
   * Reads a token from an HTTP header value as `node:http` gives it (`req.headers[name]`):
   * surrounding whitespace is ignored; a missing header, a repeated header or a list is
   * refused.
   *
   * @param header the header's name, for the error message.
   * @defaultValue header `"Fencing-Token"`
   * @throws InvalidFencingTokenError if the header is missing or not one token.
   */
  fromHeader,
  /**
   * Reads a token from a parsed JSON value: a decimal string, or a number no greater than
   * 2^53 − 1 (a larger JSON number may already have been rounded, so it is refused).
   *
   * @throws InvalidFencingTokenError otherwise.
   */
  fromJSON,
  /** Writes a token for JSON: a decimal string, since JSON numbers lose precision above 2^53. */
  toJSON,
  /** Orders two tokens: -1 if `a` is older than `b`, 1 if newer, 0 if the same. */
  compare,
  /** The newest of the given tokens. */
  max,
});
