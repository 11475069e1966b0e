import { describe, expect, it } from "vitest";
import { eventually, settledWithin } from "../../support/eventually.js";
import { expectPublishedOnlyOnItsHost } from "../../support/published-ports.js";
import { zooKeeperEnsembleForSuite } from "../../support/suite-servers.js";
import { openZooKeeperClient } from "../../support/zookeeper-client.js";

describe("ZooKeeperEnsemble", () => {
  const started = zooKeeperEnsembleForSuite();

  it("lists every server in getConnectionString(), each published on getHost() only, and has one leader", async () => {
    const zk = started();
    expect(zk.getConnectionString().split(",")).toHaveLength(3);
    const modes = await Promise.all(zk.servers.map((server) => server.getMode()));
    expect(modes.filter((mode) => mode === "leader")).toHaveLength(1);
    expect(modes.filter((mode) => mode === "follower")).toHaveLength(2);
    for (const server of zk.servers) await expectPublishedOnlyOnItsHost(server);
  });

  it("a crashed leader is back as a follower soon after restart(), round after round", async () => {
    const zk = started();
    // A JVM's start on a busy machine, then initLimit ticks: a follower that joins a serving
    // ensemble must sync with its leader within them. Each peer had looked up the crashed
    // server's name while it was down; with the JVM's cache of failed lookups (10 s) left on,
    // about one restart in three took 10 to 12 s.
    const jvmStartMs = 3000;
    const rejoinMs = jvmStartMs + zk.initLimitTicks * zk.tickTimeMs;
    const took: number[] = [];
    for (let round = 0; round < 6; round += 1) {
      const leader = await zk.findLeader();
      await leader.stop();
      const restartedAt = performance.now();
      await leader.restart();
      took.push(Math.round(performance.now() - restartedAt));
      expect(await leader.getMode()).toBe("follower");
    }
    expect(
      took.filter((ms) => ms > rejoinMs),
      `restarts (ms): ${took.join(", ")}`,
    ).toEqual([]);
  });

  it("a leader cut off by disconnect() stops serving its clients while the other two keep quorum, and serves again after reconnect()", async () => {
    const zk = started();
    const tickMs = zk.tickTimeMs;
    // A server that hears nothing from its peers for syncLimit ticks gives up on them.
    const detectMs = (zk.syncLimitTicks + 2) * tickMs * 2;
    // The majority elects a leader and its follower syncs within initLimit ticks.
    const recoverMs = (zk.initLimitTicks + zk.syncLimitTicks) * tickMs * 2;
    // The cut-off server's client keeps its session through the partition, to resume after.
    const cutOffOptions = { sessionTimeoutMs: 40 * tickMs, connectTimeoutMs: recoverMs };
    // A client gives each server a share of the session timeout to answer before it tries
    // the next: short sessions let the majority's client move on to a serving server quickly.
    const majorityOptions = { sessionTimeoutMs: 20 * tickMs, connectTimeoutMs: recoverMs };

    const leader = await zk.findLeader();
    const others = zk.servers.filter((server) => server !== leader);
    const cutOff = await openZooKeeperClient(leader.getConnectionString(), cutOffOptions);
    const majority = await openZooKeeperClient(
      others.map((server) => server.getConnectionString()).join(","),
      majorityOptions,
    );
    try {
      await majority.create("/harness-quorum", Buffer.from("before"));
      await leader.disconnect();

      await eventually("the cut-off leader stops serving", detectMs, async () => {
        expect(await leader.getMode()).toBe("not-serving");
      });
      // Not served for as long as it takes a server to give up on its peers.
      const read = cutOff.getData("/harness-quorum");
      read.catch(() => undefined);
      expect((await settledWithin(read, zk.syncLimitTicks * tickMs)).state).not.toBe("fulfilled");

      await eventually("the other two elect a leader and accept a write", recoverMs, () =>
        majority.setData("/harness-quorum", Buffer.from("during"), -1),
      );
      expect((await Promise.all(others.map((server) => server.getMode()))).sort()).toEqual([
        "follower",
        "leader",
      ]);

      await leader.reconnect();
      await leader.waitUntilReady({ timeoutMs: recoverMs });
      expect(await leader.getMode()).toBe("follower");
      const { data } = await eventually("its client reads again", recoverMs, () =>
        cutOff.getData("/harness-quorum"),
      );
      expect(String(data)).toBe("during");
    } finally {
      await Promise.all([cutOff.close(), majority.close()]);
    }
  });
});
