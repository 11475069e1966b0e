import type { Logger } from "@elector/core";
import { describe, expect, it } from "vitest";
import { checkServerVersion, keepsWatchOrder, revokesLiveLeases } from "./server-version.js";

describe("keepsWatchOrder", () => {
  it("names the versions with the fixes of etcd-io/etcd#17529 and #18089: 3.5.16 on, and no 3.4", () => {
    for (const version of ["3.5.16", "3.5.21", "3.6.0", "4.0.0"]) {
      expect(keepsWatchOrder(version), version).toBe(true);
    }
    for (const version of ["3.4.23", "3.4.37", "3.5.0", "3.5.15", "2.3.8", "what", ""]) {
      expect(keepsWatchOrder(version), version).toBe(false);
    }
  });
});

describe("revokesLiveLeases", () => {
  it("names the versions before the fix of etcd-io/etcd#15247: 3.4.28 and 3.5.10", () => {
    for (const version of ["3.3.27", "3.4.0", "3.4.23", "3.4.27", "3.5.0", "3.5.9", "2.3.8"]) {
      expect(revokesLiveLeases(version), version).toBe(true);
    }
    for (const version of ["3.4.28", "3.4.37", "3.5.10", "3.5.16", "3.6.0", "3.6.4", "what"]) {
      expect(revokesLiveLeases(version), version).toBe(false);
    }
  });
});

describe("checkServerVersion", () => {
  const logger = () => {
    const warnings: string[] = [];
    const log: Logger = {
      debug: () => {},
      info: () => {},
      warn: (first: string | Record<string, unknown>, message?: string) => {
        warnings.push(typeof first === "string" ? first : (message ?? ""));
      },
      error: () => {},
      child: () => log,
    };
    return { log, warnings };
  };
  const client = (version: string) => {
    let asked = 0;
    return {
      asked: () => asked,
      maintenance: {
        status: async () => {
          asked++;
          return { version } as never;
        },
      },
    };
  };

  it("warns once per client, naming the issue, when the server is affected", async () => {
    const { log, warnings } = logger();
    const old = client("3.4.23");
    checkServerVersion(old, log, 1000);
    checkServerVersion(old, log, 1000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(old.asked()).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("etcd-io/etcd#15247");
  });

  it("stays quiet for a fixed server", async () => {
    const { log, warnings } = logger();
    checkServerVersion(client("3.5.16"), log, 1000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings).toEqual([]);
  });
});
