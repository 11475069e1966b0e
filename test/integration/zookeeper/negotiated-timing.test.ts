// Issue 11, items 7 and 10: deadlines follow the session timeout the server granted, and a
// pipelined heartbeat keeps a term under a round trip its old heartbeat could not survive.
import { createZooKeeperElector } from "@elector/zookeeper";
import { describe, expect, it } from "vitest";
import { driverOf } from "../../../packages/zookeeper/src/zookeeper-elector.js";
import { zooKeeperForSuite } from "../../support/suite-servers.js";
import { openZooKeeperClient } from "../../support/zookeeper-client.js";
import { SpawnedProcess } from "../cli/spawned-process.js";
import { ProxyHost } from "./proxy-host.js";
import { type LogLine, recordingLogger, timeline } from "./support.js";

const election = (name: string) => `${name}-${process.pid}-${Date.now().toString(36)}`;

/** Resolves after `ms`; the elector's events are what the test asserts on meanwhile. */
const observe = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the ZooKeeper elector's deadlines", () => {
  // A server that grants at most 4000 ms, whatever a client asks for.
  const maxSessionTimeoutMs = 4000;
  const capped = zooKeeperForSuite({
    environment: {
      ZOO_CFG_EXTRA: `quorumListenOnAllIPs=true maxSessionTimeout=${maxSessionTimeoutMs}`,
    },
  });

  it("keeps a term under 450 ms of latency each way, a round trip within the session timeout less the margin", async () => {
    const server = capped();
    const sessionTimeoutMs = 2000;
    // The proxy's delays run in a process of their own: in this one, they would wait behind
    // the client's own work on a busy machine and add to the round trip.
    await using host = await ProxyHost.start();
    const proxy = await host.proxy(server.getConnectionString());
    const elector = await createZooKeeperElector({
      servers: [proxy.endpoint],
      sessionTimeoutMs,
      election: election("latency"),
      id: "slow-link",
    });
    try {
      const events = timeline(elector);
      const leadership = await elector.campaign({ value: "v1" });
      // The default margin is 500 ms: the deadline allows a round trip of up to 1500 ms.
      expect(driverOf(elector)?.session?.marginMs).toBe(500);
      await proxy.latency(450);
      await observe(5 * sessionTimeoutMs);
      expect(events.events.map(({ event, cause }) => ({ event, cause }))).toEqual([
        { event: "elected", cause: undefined },
      ]);
      expect(leadership.isActive()).toBe(true);
      await leadership.proclaim("v2");
      expect(leadership.isActive()).toBe(true);
    } finally {
      await elector.close();
    }
  });

  it("takes the timeout the server granted, recomputes the margin from it and warns, so a term asked for 30000 ms lasts", async () => {
    const server = capped();
    const lines: LogLine[] = [];
    const elector = await createZooKeeperElector({
      servers: [server.getConnectionString()],
      sessionTimeoutMs: 30_000,
      election: election("capped"),
      id: "asked-30000",
      logger: recordingLogger(lines),
    });
    try {
      const events = timeline(elector);
      const leadership = await elector.campaign({ value: "v" });
      const session = driverOf(elector)?.session;
      expect(session?.timeoutMs).toBe(maxSessionTimeoutMs);
      // The default margin of 30000 ms (3000) would leave 1000 ms: it follows the grant.
      expect(session?.marginMs).toBe(500);
      expect(
        lines.some((line) =>
          line.message?.startsWith(
            `ZooKeeper granted a session timeout of ${maxSessionTimeoutMs} ms in place of the requested 30000 ms`,
          ),
        ),
      ).toBe(true);
      await observe(2 * maxSessionTimeoutMs);
      expect(events.events.map((entry) => entry.event)).toEqual(["elected"]);
      expect(leadership.isActive()).toBe(true);
      await leadership.resign();
    } finally {
      await elector.close();
    }
  });

  it("elects a candidate that asked for 60000 ms from a server that grants 4000 ms", async () => {
    const server = capped();
    const elector = await createZooKeeperElector({
      servers: [server.getConnectionString()],
      sessionTimeoutMs: 60_000,
      // An explicit margin larger than half the grant is held to half of it.
      safetyMarginMs: 7000,
      election: election("capped-60000"),
      id: "asked-60000",
    });
    try {
      const leadership = await elector.campaign({
        value: "v",
        signal: AbortSignal.timeout(2 * maxSessionTimeoutMs),
      });
      expect(driverOf(elector)?.session?.marginMs).toBe(maxSessionTimeoutMs / 2);
      // What `elector run` waits for its command after a loss: the margin in force.
      expect(elector.safetyMarginMs).toBe(maxSessionTimeoutMs / 2);
      await observe(maxSessionTimeoutMs);
      expect(leadership.isActive()).toBe(true);
    } finally {
      await elector.close();
    }
  });

  it("gives elector run's command the margin in force as its default grace, not the one of the timeout asked for", async () => {
    const server = capped();
    const name = election("capped-run");
    // 7000 ms would be a margin for the 60000 ms asked for; held to half of the 4000 granted.
    const url = `zk://${server.getConnectionString()}/elector?sessionTimeoutMs=60000&safetyMarginMs=7000`;
    // The command ignores SIGTERM: only the SIGKILL after the grace ends it.
    await using cli = SpawnedProcess.cli("elector run", [
      "run",
      "--url",
      url,
      "--election",
      name,
      "--once",
      "--log-level",
      "info",
      "--",
      "sh",
      "-c",
      "trap '' TERM; while :; do sleep 0.1; done",
    ]);
    await cli.waitForLine(/started sh/, 2 * maxSessionTimeoutMs);
    const inspector = await openZooKeeperClient(server.getConnectionString(), {
      sessionTimeoutMs: maxSessionTimeoutMs,
      connectTimeoutMs: 10_000,
    });
    try {
      const { children } = await inspector.getChildren(`/elector/${name}`);
      for (const child of children) await inspector.delete(`/elector/${name}/${child}`);
    } finally {
      await inspector.close();
    }
    const stopping = await cli.waitForLine(/SIGKILL after/, maxSessionTimeoutMs);
    // Half the 4000 ms granted, not the 7000 ms configured for the 60000 ms asked for.
    expect(JSON.parse(stopping.text)).toMatchObject({ graceMs: maxSessionTimeoutMs / 2 });
    expect(await cli.waitForExit(2 * maxSessionTimeoutMs)).toMatchObject({ signal: null });
  });
});
