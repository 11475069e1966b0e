import { describe, expect, it } from "vitest";
import {
  ConnectionError,
  ElectorClosedError,
  InvalidOptionError,
  isElectorError,
  isLeadershipLostError,
  isRetryableError,
  LeadershipLostError,
} from "./errors.js";

describe("errors", () => {
  it("carry a stable code, a name and the cause", () => {
    const cause = new Error("ECONNREFUSED");
    const error = new ConnectionError("etcd is unreachable", { cause });
    expect(error).toMatchObject({
      name: "ConnectionError",
      code: "connection-failed",
      cause,
      retryable: true,
    });
    expect(new InvalidOptionError("ttlSeconds", 0.5, "an integer").message).toBe(
      "ttlSeconds must be an integer, got 0.5",
    );
  });

  it("are recognised by the guards across duplicate installs", () => {
    // A copy of the class from another install is another class, with the same brand.
    const foreign = Object.assign(new Error("lost"), { code: "lease-expired", retryable: true });
    Object.defineProperty(foreign, Symbol.for("@elector/core/error"), { value: true });
    expect(foreign instanceof LeadershipLostError).toBe(false);
    expect(isElectorError(foreign)).toBe(true);
    expect(isLeadershipLostError(foreign)).toBe(true);
    expect(isRetryableError(foreign)).toBe(true);
    expect(isElectorError(new Error("plain"))).toBe(false);
  });

  it("mark losses retryable unless the candidate chose to stop", () => {
    expect(isRetryableError(new LeadershipLostError("deadline-passed", "late"))).toBe(true);
    expect(isRetryableError(new LeadershipLostError("resigned", "bye"))).toBe(false);
    expect(isRetryableError(new ElectorClosedError("campaign()"))).toBe(false);
  });
});
