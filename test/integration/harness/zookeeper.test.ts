import { ZooKeeperContainer } from "@elector/testing";
import { describe, expect, it } from "vitest";
import { expectPublishedOnlyOnItsHost } from "../../support/published-ports.js";
import { startedForSuite } from "../../support/suite-servers.js";
import { openZooKeeperClient } from "../../support/zookeeper-client.js";

describe("ZooKeeperContainer", () => {
  const started = startedForSuite("zookeeper", {
    start: () => new ZooKeeperContainer().start(),
    stop: (zk) => zk.remove(),
    servers: (zk) => [zk],
  });
  // A session outlives a restart of the server by far (sessions last at most 120 ticks).
  const sessionTimeoutMs = (): number => 40 * started().tickTimeMs;

  it("creates a znode and reads it back through the zookeeper client at getConnectionString()", async () => {
    const server = started();
    expect(server.getConnectionString()).toBe(`${server.getHost()}:${server.getClientPort()}`);
    await expectPublishedOnlyOnItsHost(server);
    const client = await openZooKeeperClient(server.getConnectionString(), {
      sessionTimeoutMs: sessionTimeoutMs(),
      connectTimeoutMs: sessionTimeoutMs(),
    });
    try {
      const path = await client.create("/harness-hello", Buffer.from("hello"));
      expect(path).toBe("/harness-hello");
      const { data } = await client.getData("/harness-hello");
      expect(String(data)).toBe("hello");
    } finally {
      await client.close();
    }
  });

  it("answers four-letter words: ruok with imok, and srvr with its standalone mode", async () => {
    const server = started();
    expect(await server.fourLetterWord("ruok")).toBe("imok");
    expect(await server.fourLetterWord("srvr")).toContain("Mode: standalone");
    expect(await server.getMode()).toBe("standalone");
  });

  it("keeps its znodes and its connection string across stop() and restart()", async () => {
    const server = started();
    const connect = server.getConnectionString();
    const options = { sessionTimeoutMs: sessionTimeoutMs(), connectTimeoutMs: sessionTimeoutMs() };
    const before = await openZooKeeperClient(connect, options);
    try {
      await before.create("/harness-durable", Buffer.from("kept"));
    } finally {
      await before.close();
    }
    await server.stop();
    await server.restart();
    expect(server.getConnectionString()).toBe(connect);
    const after = await openZooKeeperClient(connect, options);
    try {
      const { data } = await after.getData("/harness-durable");
      expect(String(data)).toBe("kept");
    } finally {
      await after.close();
    }
  });
});
