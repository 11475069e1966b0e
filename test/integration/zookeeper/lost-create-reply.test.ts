// Issue 11, defect 9: after a create whose reply was lost, the candidate looks for its node by
// its GUID. It used to list the election node at once on whatever server it reconnected to;
// a follower that has not yet applied the create the quorum committed would show no node, and
// the candidate would create a second one behind its own orphan. It now `sync`s the election
// node first, through that server.
//
// A follower's lag between the quorum's commit and its own apply is too short to hit on
// purpose from outside, so this test shows the order on the wire: the reply of the create is
// lost on its way back from one follower, the client is moved to the other follower, and a
// tap in front of both records that the first request on the election node there is a sync,
// and only then the list.
import { createZooKeeperElector } from "@elector/zookeeper";
import { describe, expect, it } from "vitest";
import { eventually } from "../../support/eventually.js";
import { zooKeeperEnsembleForSuite } from "../../support/suite-servers.js";
import { opcodes, RequestTap } from "./request-tap.js";
import { ZooKeeperInspector } from "./zookeeper-faults.js";

// Long enough to outlast a slow reconnect on a loaded machine; the test waits for none of it.
const sessionTimeoutMs = 10_000;

describe("a ZooKeeper candidate whose create reply was lost, on a three-server ensemble", () => {
  const started = zooKeeperEnsembleForSuite();

  it("syncs the election node through the follower it reconnected to before it lists it, and finds its node rather than create another", async () => {
    const ensemble = started();
    const modes = await Promise.all(ensemble.servers.map((server) => server.getMode()));
    const followers = ensemble.servers.filter((_, index) => modes[index] === "follower");
    const [first, second] = followers;
    if (first === undefined || second === undefined) {
      throw new Error(`expected two followers, got modes ${modes.join(", ")}`);
    }
    await using inspector = await ZooKeeperInspector.open(ensemble.getConnectionString());
    await using tap = await RequestTap.start(first.getConnectionString());
    const election = `lost-reply-${process.pid}-${Date.now().toString(36)}`;
    const electionPath = `/elector/${election}`;
    // Made beforehand, so that the first create the candidate sends is its node's.
    await inspector.client.create("/elector", Buffer.alloc(0), "persistent").catch(() => {});
    await inspector.client.create(electionPath, Buffer.alloc(0), "persistent");
    const elector = await createZooKeeperElector({
      servers: [tap.endpoint],
      sessionTimeoutMs,
      election,
      id: "lost-reply",
    });
    try {
      const createSent = tap.trap(opcodes.create, `${electionPath}/`);
      const campaign = elector.campaign({ value: "v" });
      await createSent;
      // The quorum committed the create; its reply never reaches the client.
      await eventually("the node is committed", sessionTimeoutMs, async () => {
        expect(await inspector.nodes(electionPath)).toHaveLength(1);
      });
      const mark = tap.requests.length;
      tap.moveTo(second.getConnectionString());
      const leadership = await campaign;

      const onElectionNode = tap.requests
        .slice(mark)
        .filter((request) => request.path === electionPath)
        .map((request) =>
          request.opcode === opcodes.getChildren || request.opcode === opcodes.getChildren2
            ? "list"
            : request.opcode,
        );
      expect(onElectionNode.slice(0, 2)).toEqual([opcodes.sync, "list"]);
      // Found, not created again: one node, the one the lost create made, and no second create.
      const nodes = await inspector.nodes(electionPath);
      expect(nodes).toHaveLength(1);
      expect(nodes[0]?.ephemeralOwner).toBe(elector.sessionId);
      expect(leadership.token).toBe(BigInt(nodes[0]?.czxid ?? 0));
      expect(
        tap.requests.slice(mark).filter((request) => request.opcode === opcodes.create),
      ).toEqual([]);
      await leadership.resign();
    } finally {
      await elector.close();
    }
  });
});
