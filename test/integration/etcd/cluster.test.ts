import { createEtcdElector } from "@elector/etcd";
import type { StartedEtcdMember } from "@elector/testing";
import { describe, expect, it } from "vitest";
import { electorsForSuite } from "../../support/electors.js";
import { etcdClusterForSuite } from "../../support/suite-servers.js";
import {
  abortTime,
  lineOf,
  openKeepAliveStreams,
  timedCampaign,
  uniqueElection,
  within,
} from "./helpers.js";

describe("etcd elector on a three-member cluster", () => {
  const started = etcdClusterForSuite();
  const closedAfterEach = electorsForSuite();
  const elector = async (election: string, id: string, endpoints: string[], ttlSeconds: number) =>
    closedAfterEach(await createEtcdElector({ election, id, endpoints, ttlSeconds }));

  it("keeps leading when the member that carries its keep-alives is stopped", async () => {
    const etcd = started();
    // Long enough to outlast a Raft election if the stopped member was the Raft leader.
    const ttlSeconds = 5;
    const ttlMs = ttlSeconds * 1000;
    const leader = await elector(
      uniqueElection("member-stopped"),
      "leader",
      etcd.getClientEndpoints(),
      ttlSeconds,
    );
    const leadership = await leader.campaign();
    let carrier: StartedEtcdMember | undefined;
    await expect
      .poll(
        async () => {
          const streams = await Promise.all(
            etcd.members.map((member) => openKeepAliveStreams(member.getClientEndpoint())),
          );
          carrier = etcd.members[streams.indexOf(1)];
          return streams.reduce((sum, count) => sum + count, 0);
        },
        { timeout: ttlMs },
      )
      .toBe(1);
    if (carrier === undefined) throw new Error("no member carries the keep-alive stream");

    await carrier.stop();
    const stoppedAt = performance.now();
    try {
      // A keep-alive sent after the stop was acknowledged by another member: the deadline,
      // its send time + TTL − margin, moved past the stop.
      await expect
        .poll(() => leadership.deadline(), { timeout: ttlMs * 2 })
        .toBeGreaterThan(stoppedAt + ttlMs - 500);
      expect(leadership.signal.aborted).toBe(false);
      expect(leadership.isActive()).toBe(true);
      expect(await leader.leader()).toMatchObject({ id: "leader", token: leadership.token });
    } finally {
      await carrier.restart();
    }
  });

  it("steps down a leader whose only member is cut off in a minority, before the majority elects its successor", async () => {
    const etcd = started();
    const ttlSeconds = 2;
    const ttlMs = ttlSeconds * 1000;
    const raftLeader = await etcd.findLeader();
    // A follower is cut off: the Raft leader stays with the majority, so no Raft election
    // muddles the timing.
    const followers = etcd.members.filter((member) => member !== raftLeader);
    const isolated = followers[0];
    if (isolated === undefined) throw new Error("the cluster has no follower");
    const majority = etcd.members.filter((member) => member !== isolated);
    const election = uniqueElection("minority");
    const cutOff = await elector(election, "cut-off", [isolated.getClientEndpoint()], ttlSeconds);
    const successor = await elector(
      election,
      "successor",
      majority.map((member) => member.getClientEndpoint()),
      ttlSeconds,
    );
    const leadership = await cutOff.campaign();
    const steppedDownAt = abortTime(leadership.signal);
    const next = timedCampaign(successor);
    await lineOf(successor, 2, ttlMs);

    await isolated.disconnect();
    try {
      const { electedAt } = await within(next, ttlMs * 3, "the successor's election");
      expect(leadership.signal.reason).toMatchObject({ code: "deadline-passed" });
      expect(steppedDownAt()).toBeLessThan(electedAt);
    } finally {
      await isolated.reconnect();
    }
    expect(leadership.isActive()).toBe(false);
  });
});
