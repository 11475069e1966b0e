import { EtcdCluster } from "@elector/testing";
import { describe, expect, it } from "vitest";
import { openEtcdClient } from "../../support/etcd-client.js";
import { eventually } from "../../support/eventually.js";
import { expectPublishedOnlyOnItsHost } from "../../support/published-ports.js";
import { startedForSuite } from "../../support/suite-servers.js";

describe("EtcdCluster", () => {
  const started = startedForSuite("the etcd cluster", {
    start: () => new EtcdCluster().start(),
    stop: (cluster) => cluster.stop(),
    servers: (cluster) => cluster.members,
  });

  it("publishes one client endpoint per member, on getHost() only, and reports one leader", async () => {
    const { members } = started();
    expect(members).toHaveLength(3);
    expect(new Set(started().getClientEndpoints()).size).toBe(3);
    expect(members.map((member) => member.memberName)).toEqual(["etcd-1", "etcd-2", "etcd-3"]);
    const leaders = await Promise.all(members.map((member) => member.isLeader()));
    expect(leaders.filter(Boolean)).toHaveLength(1);
    for (const member of members) await expectPublishedOnlyOnItsHost(member);
  });

  it("keeps serving after stop() of its leader, which rejoins after restart() with its data", async () => {
    const etcd = started();
    const callTimeoutMs = etcd.electionTimeoutMs;
    // Followers campaign after one to two election timeouts; a vote takes a round trip.
    const failoverMs = 5 * etcd.electionTimeoutMs + callTimeoutMs;
    const leader = await etcd.findLeader();
    const survivors = etcd.members.filter((member) => member !== leader);

    const all = openEtcdClient(etcd.getClientEndpoints(), callTimeoutMs);
    const remaining = openEtcdClient(
      survivors.map((member) => member.getClientEndpoint()),
      callTimeoutMs,
    );
    const rejoined = openEtcdClient([leader.getClientEndpoint()], callTimeoutMs);
    try {
      await all.put("harness/before-stop").value("1");
      await leader.stop();

      await eventually("the two remaining members accept a write", failoverMs, () =>
        remaining.put("harness/during-stop").value("2"),
      );
      expect(await remaining.get("harness/before-stop").string()).toBe("1");

      // etcd logs this only when it finds its write-ahead log: it came back as the member it
      // was, from its own data, rather than as a new one.
      expect(await leader.logs()).not.toContain("restarting local member");
      await leader.restart();
      expect(await leader.logs()).toContain("restarting local member");
      // A linearizable read through it alone: it is back in the quorum and caught up.
      expect(await rejoined.get("harness/during-stop").string()).toBe("2");
      expect(await rejoined.get("harness/before-stop").string()).toBe("1");
    } finally {
      all.close();
      remaining.close();
      rejoined.close();
    }
  });
});
