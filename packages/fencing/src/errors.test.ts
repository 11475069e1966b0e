import { describe, expect, test } from "vitest";
import {
  FenceStoreError,
  FencingError,
  InvalidFencingOptionError,
  InvalidFencingTokenError,
  isFenceStoreError,
  isFencingError,
  isInvalidFencingTokenError,
  isRetryableFencingError,
  isStaleLeaderError,
  isStaleTokenError,
  StaleLeaderError,
  StaleTokenError,
} from "./errors.js";

describe("fencing errors", () => {
  test("StaleTokenError carries the resource and both tokens, and says why", () => {
    const error = new StaleTokenError("orders", 33n, 34n);
    expect(error).toBeInstanceOf(FencingError);
    expect(error).toMatchObject({
      name: "StaleTokenError",
      code: "stale-token",
      resource: "orders",
      presented: 33n,
      highest: 34n,
      retryable: false,
    });
    expect(error.message).toBe(
      'fencing token 33 is stale for resource "orders": token 34 was already admitted, so a newer leader has written',
    );
    expect(isStaleTokenError(error)).toBe(true);
    expect(isStaleLeaderError(error)).toBe(false);
  });

  test("StaleLeaderError names the key and the token of the ended term", () => {
    const error = new StaleLeaderError("jobs/694d7f", 33n, undefined, "the key is gone");
    expect(error).toMatchObject({ name: "StaleLeaderError", code: "stale-leader", token: 33n });
    expect(error.message).toContain("token 33 has ended (the key is gone)");
    expect(isStaleLeaderError(error)).toBe(true);
  });

  test("FenceStoreError passes its cause through and is retryable unless told otherwise", () => {
    const cause = new Error("ECONNRESET");
    const error = new FenceStoreError("etcd failed", { cause });
    expect(error.cause).toBe(cause);
    expect(isRetryableFencingError(error)).toBe(true);
    expect(isFenceStoreError(error)).toBe(true);
    expect(isRetryableFencingError(new FenceStoreError("bad key", { retryable: false }))).toBe(
      false,
    );
  });

  test("InvalidFencingOptionError and InvalidFencingTokenError name the option and the value", () => {
    expect(new InvalidFencingOptionError("prefix", 7, "a string").message).toBe(
      "prefix must be a string, got 7",
    );
    const token = new InvalidFencingTokenError("Fencing-Token header", "abc");
    expect(token.message).toContain("Fencing-Token header must be a fencing token");
    expect(token.message).toContain('got "abc"');
    expect(isInvalidFencingTokenError(token)).toBe(true);
  });

  test("the guards recognize an error from another copy of the package, and nothing else", () => {
    // A second install has its own classes but the same Symbol.for brand.
    const foreign = Object.assign(new Error("stale"), { code: "stale-token", retryable: false });
    Object.defineProperty(foreign, Symbol.for("@elector/fencing/error"), { value: true });
    expect(foreign).not.toBeInstanceOf(FencingError);
    expect(isFencingError(foreign)).toBe(true);
    expect(isStaleTokenError(foreign)).toBe(true);

    const lookalike = Object.assign(new Error("stale"), { code: "stale-token" });
    expect(isFencingError(lookalike)).toBe(false);
    expect(isStaleTokenError(lookalike)).toBe(false);
    expect(isFencingError(null)).toBe(false);
    expect(isRetryableFencingError("store-failed")).toBe(false);
  });
});
