import { describe, expect, it } from "vitest";
import { parseMode, resolveZooKeeperTiming, zooKeeperEnvironment } from "./zookeeper-container.js";

describe("parseMode", () => {
  it("reads the mode from srvr, and not-serving from a server without quorum", () => {
    expect(
      parseMode("Zookeeper version: 3.8.4\nLatency min/avg/max: 0/0.0/0\nMode: leader\n"),
    ).toBe("leader");
    expect(parseMode("This ZooKeeper instance is not currently serving requests\n")).toBe(
      "not-serving",
    );
    expect(parseMode("")).toBe("not-serving");
  });
});

describe("zooKeeperEnvironment", () => {
  it("writes the timing in the official image's variables and enables four-letter words", () => {
    const env = zooKeeperEnvironment(
      resolveZooKeeperTiming({ tickTimeMs: 200, syncLimitTicks: 3 }),
    );
    expect(env).toMatchObject({
      ZOO_TICK_TIME: "200",
      ZOO_INIT_LIMIT: "10",
      ZOO_SYNC_LIMIT: "3",
      ZOO_4LW_COMMANDS_WHITELIST: "*",
    });
    expect(env.ZOO_CFG_EXTRA).toContain("maxSessionTimeout=24000");
  });

  it("rejects a tick time out of range, naming it", () => {
    expect(() => resolveZooKeeperTiming({ tickTimeMs: 0 })).toThrow(
      "tickTimeMs must be an integer from 50 to 10000, got 0",
    );
  });
});
