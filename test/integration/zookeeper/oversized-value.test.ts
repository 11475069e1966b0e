// Issue 11, defect 8: a server drops the connection, without an answer, on a request larger
// than its `jute.maxbuffer`. The candidate took that for a lost reply and sent the create
// again, forever. `@elector/core` caps values at 256 KiB, within ZooKeeper's default limit
// (1 MiB), so the server here has a lower one: a local standalone ZooKeeper (Debian's jars,
// see crafted-zookeeper.java) started with -Djute.maxbuffer=65536, and a 100 kB value.
import { isElectorError } from "@elector/core";
import { createZooKeeperElector } from "@elector/zookeeper";
import { describe, expect, it } from "vitest";
import { settledWithin } from "../../support/eventually.js";
import { craftedZooKeeperForSuite } from "../../support/suite-servers.js";

const sessionTimeoutMs = 4000;
const juteMaxBuffer = 64 * 1024;
// The candidate gives up after three dropped creates (maxDroppedCreates); each costs a
// reconnect, which the C client makes at once and which takes a round trip on a local
// server. A session timeout each is ample and still says "not forever".
const giveUpWithinMs = 3 * sessionTimeoutMs;

describe("the ZooKeeper elector on a server whose jute.maxbuffer is below the value", () => {
  const started = craftedZooKeeperForSuite({ juteMaxBuffer });

  it("rejects the campaign with a permanent error instead of retrying forever, leaves no node behind, and campaigns again with a smaller value", async () => {
    const { inspector } = started();
    const elector = await createZooKeeperElector({
      servers: [started().zookeeper.connectionString],
      sessionTimeoutMs,
      election: `oversized-${process.pid}`,
      id: "large",
    });
    try {
      const value = "x".repeat(100_000);
      const startedAt = performance.now();
      const outcome = await settledWithin(elector.campaign({ value }), giveUpWithinMs);
      const tookMs = performance.now() - startedAt;
      expect(outcome.state, `after ${Math.round(tookMs)} ms`).toBe("rejected");
      if (outcome.state !== "rejected") return;
      const error = outcome.reason;
      expect(isElectorError(error) && error.retryable, String(error)).toBe(false);
      expect(error).toMatchObject({ code: "backend-failed" });
      expect(String(error)).toMatch(/jute\.maxbuffer/);
      expect(String(error)).toMatch(/100025 bytes/);
      // Neither a candidate node nor an election node is left.
      expect(await inspector.client.exists(elector.electionPath)).toBeUndefined();

      // The session survived the dropped connections: a value the server takes is elected.
      const leadership = await elector.campaign({ value: "small" });
      expect(leadership.isActive()).toBe(true);
      expect(await inspector.nodes(elector.electionPath)).toMatchObject([
        { id: "large", value: "small" },
      ]);
      await leadership.resign();
    } finally {
      await elector.close();
    }
  });
});
