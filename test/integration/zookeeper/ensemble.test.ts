import type { StartedZooKeeperServer } from "@elector/testing";
import { createZooKeeperElector } from "@elector/zookeeper";
import { describe, expect, it } from "vitest";
import { eventually } from "../../support/eventually.js";
import { zooKeeperEnsembleForSuite } from "../../support/suite-servers.js";
import { timeline } from "./support.js";
import { ZooKeeperInspector } from "./zookeeper-faults.js";

// Long enough to outlast a leader election among the two servers left (a few ticks of
// 500 ms), should the stopped server have been the quorum's leader.
const sessionTimeoutMs = 10_000;

/** The server among `servers` whose `cons` lists a connection of `sessionId`. */
async function serverOf(
  servers: readonly StartedZooKeeperServer[],
  sessionId: string,
): Promise<StartedZooKeeperServer> {
  for (const server of servers) {
    const connections = await server.fourLetterWord("cons").catch(() => "");
    if (connections.includes(`sid=0x${sessionId},`)) return server;
  }
  throw new Error(`no server lists session 0x${sessionId}`);
}

describe("the ZooKeeper elector on a three-server ensemble", () => {
  const started = zooKeeperEnsembleForSuite();

  it("keeps leadership when the server its client uses stops: the client resumes the session on another server", async () => {
    const zk = started();
    const elector = await createZooKeeperElector({
      servers: zk.servers.map((server) => server.getConnectionString()),
      sessionTimeoutMs,
      election: `ensemble-${process.pid}-${Date.now().toString(36)}`,
      id: "steady",
    });
    try {
      const events = timeline(elector);
      const leadership = await elector.campaign({ value: "v1" });
      const sessionId = elector.sessionId ?? "";
      const used = await eventually("the session shows in cons", 5000, () =>
        serverOf(zk.servers, sessionId),
      );
      const others = zk.servers.filter((server) => server !== used);

      await used.stop();
      await events.next("suspended", sessionTimeoutMs);
      await events.next("resumed", sessionTimeoutMs - 1000);

      expect(events.events.map((entry) => entry.event)).toEqual([
        "elected",
        "suspended",
        "resumed",
      ]);
      expect(leadership.isActive()).toBe(true);
      expect(elector.sessionId).toBe(sessionId);
      // A stopping server may still list the connection it is closing: ask the others.
      await serverOf(others, sessionId);
      await leadership.proclaim("v2");
      await using inspector = await ZooKeeperInspector.open(
        others.map((server) => server.getConnectionString()).join(","),
      );
      expect(await inspector.nodes(elector.electionPath)).toMatchObject([
        { id: "steady", value: "v2", ephemeralOwner: sessionId, czxid: Number(leadership.token) },
      ]);
    } finally {
      await elector.close();
    }
  });
});
