// Issue 15: the handoff needs no listing of the line at any line length. A waiter that saw
// its predecessor at the head of the line (in the listing it made when it joined, or in the
// one the predecessor's "elected" mark has it make while the predecessor leads) leads on the
// predecessor's deletion alone; the line is ordered by sequence, from one `getChildren` with
// no read per node. Each candidate talks through a tap of its own, which counts its requests
// on the wire. The argument is in docs/safety.md, "ZooKeeper: the line and the handoff".
import type { Leadership } from "@elector/core";
import { createZooKeeperElector, type ZooKeeperElector } from "@elector/zookeeper";
import { describe, expect, it } from "vitest";
import { electorsForSuite } from "../../support/electors.js";
import { eventually, settledWithin } from "../../support/eventually.js";
import { zooKeeperForSuite } from "../../support/suite-servers.js";
import { opcodes, RequestTap, type TappedRequest } from "./request-tap.js";
import { type LogLine, recordingLogger, timeline } from "./support.js";
import { ZooKeeperInspector } from "./zookeeper-faults.js";

const sessionTimeoutMs = 4000;

/** One candidate, its tap, and what it logged. */
interface Tapped {
  readonly elector: ZooKeeperElector;
  readonly tap: RequestTap;
  readonly lines: LogLine[];
}

const isListing = (request: TappedRequest) =>
  request.opcode === opcodes.getChildren || request.opcode === opcodes.getChildren2;

describe("the ZooKeeper handoff", () => {
  const started = zooKeeperForSuite();
  const closedAfterEach = electorsForSuite();
  let elections = 0;

  const newElection = () => {
    const election = `handoff-${process.pid}-${++elections}`;
    return { election, electionPath: `/elector/${election}` };
  };
  const candidate = async (election: string, id: string): Promise<Tapped> => {
    const tap = await RequestTap.start(started().getConnectionString());
    closedAfterEach({ close: () => tap[Symbol.asyncDispose]() });
    const lines: LogLine[] = [];
    const elector = closedAfterEach(
      await createZooKeeperElector({
        servers: [tap.endpoint],
        sessionTimeoutMs,
        election,
        id,
        logger: recordingLogger(lines),
      }),
    );
    return { elector, tap, lines };
  };
  const listingsOf = (candidate: Tapped, electionPath: string, from = 0) =>
    candidate.tap.requests.slice(from).filter((r) => isListing(r) && r.path === electionPath)
      .length;
  /**
   * Campaigns, and resolves once the candidate watches its predecessor, with the campaign
   * (wrapped: an async function's result would be the leadership itself).
   */
  const queue = async (candidate: Tapped): Promise<{ campaign: Promise<Leadership> }> => {
    const campaign = candidate.elector.campaign({ value: candidate.elector.id });
    // Awaited by the test; if an assertion fails first, close() rejects it.
    campaign.catch(() => {});
    await eventually(`${candidate.elector.id} waits in line`, sessionTimeoutMs, async () => {
      expect(candidate.lines.map((line) => line.message)).toContain("waiting for the predecessor");
    });
    return { campaign };
  };

  it("hands over down a line of four with no listing after a leader goes: each successor listed once when it joined, and at most once more while its predecessor led", async () => {
    const { election, electionPath } = newElection();
    const line = await Promise.all(["c0", "c1", "c2", "c3"].map((id) => candidate(election, id)));
    await using inspector = await ZooKeeperInspector.open(started().getConnectionString());
    const campaigns: Promise<Leadership>[] = [
      (line[0] as Tapped).elector.campaign({ value: "c0" }),
    ];
    await campaigns[0];
    for (const waiter of line.slice(1)) campaigns.push((await queue(waiter)).campaign);
    // Joined behind the head: one listing each, and no read per node to order them.
    expect(line.map((c) => listingsOf(c, electionPath))).toEqual([1, 1, 1, 1]);
    for (const c of line) {
      expect(
        c.tap.requests.filter(
          (r) => r.opcode === opcodes.exists && r.path?.startsWith(`${electionPath}/`) === true,
        ),
      ).toEqual([]);
    }

    for (let position = 0; position < line.length - 1; position++) {
      const leader = line[position] as Tapped;
      const successor = line[position + 1] as Tapped;
      if (position > 0) {
        // The leader marked its node; the successor, which joined with the leader deep in
        // line, listed once more while the leader still stood.
        const leaderNode = (await inspector.nodes(electionPath))[0];
        expect(leaderNode?.id).toBe(leader.elector.id);
        await eventually(`${successor.elector.id} lists again`, sessionTimeoutMs, async () => {
          expect(listingsOf(successor, electionPath)).toBe(2);
        });
        const { data } = await inspector.client.getData(`${electionPath}/${leaderNode?.name}`);
        expect(JSON.parse(data.toString("utf8"))).toMatchObject({ elected: true });
      }
      const from = successor.tap.requests.length;
      const leadership = await (campaigns[position] as Promise<Leadership>);
      await leadership.resign();
      const next = await (campaigns[position + 1] as Promise<Leadership>);
      expect(next.isActive()).toBe(true);
      expect(listingsOf(successor, electionPath, from), `${successor.elector.id}'s listings`).toBe(
        0,
      );
      const nodes = await inspector.nodes(electionPath);
      expect(nodes[0]?.id).toBe(successor.elector.id);
      expect(next.token).toBe(BigInt(nodes[0]?.czxid ?? 0));
    }
    await (await (campaigns.at(-1) as Promise<Leadership>)).resign();
  });

  it("never elects a waiter whose own node another session deleted just before its predecessor, which it had seen at the head, went", async () => {
    const { election, electionPath } = newElection();
    const [first, second, third] = await Promise.all(
      ["c0", "c1", "c2"].map((id) => candidate(election, id)),
    );
    if (first === undefined || second === undefined || third === undefined) throw new Error();
    await using inspector = await ZooKeeperInspector.open(started().getConnectionString());
    const firstTerm = await first.elector.campaign({ value: "c0" });
    const { campaign: secondCampaign } = await queue(second);
    const { campaign: thirdCampaign } = await queue(third);
    const thirdEvents = timeline(third.elector);
    await firstTerm.resign();
    const secondTerm = await secondCampaign;
    // The third has seen the second at the head: its predecessor's deletion alone would do.
    await eventually("the third lists again", sessionTimeoutMs, async () => {
      expect(listingsOf(third, electionPath)).toBe(2);
    });
    await inspector.deleteNodeOf(electionPath, "c2");
    await secondTerm.resign();
    // Both deletions reach the third's session in the order the server applied them: its own
    // node's first, so it cannot take the second's as its turn.
    const outcome = await settledWithin(thirdCampaign, sessionTimeoutMs);
    expect(outcome.state).toBe("rejected");
    expect(thirdEvents.events.filter((event) => event.event === "elected")).toEqual([]);
    expect(await inspector.nodes(electionPath)).toEqual([]);
  });

  it('takes another session\'s "elected" mark on a waiting predecessor as a hint only: the waiter behind it is not elected while the real leader stands', async () => {
    const { election, electionPath } = newElection();
    const [first, second, third] = await Promise.all(
      ["c0", "c1", "c2"].map((id) => candidate(election, id)),
    );
    if (first === undefined || second === undefined || third === undefined) throw new Error();
    await using inspector = await ZooKeeperInspector.open(started().getConnectionString());
    const firstTerm = await first.elector.campaign({ value: "c0" });
    await queue(second);
    const { campaign: thirdCampaign } = await queue(third);
    const thirdEvents = timeline(third.elector);
    const forged = (await inspector.nodes(electionPath))[1];
    expect(forged?.id).toBe("c1");
    await inspector.client.setData(
      `${electionPath}/${forged?.name}`,
      Buffer.from(JSON.stringify({ id: "c1", value: "c1", elected: true })),
      -1,
    );
    // The third lists on the forged mark, and sees the first still at the head.
    await eventually("the third lists on the mark", sessionTimeoutMs, async () => {
      expect(listingsOf(third, electionPath)).toBe(2);
    });
    await second.elector.close();
    // The third lists again after the second went, and waits for the first.
    await eventually("the third lists after the second went", sessionTimeoutMs, async () => {
      expect(listingsOf(third, electionPath)).toBe(3);
    });
    expect((await settledWithin(thirdCampaign, sessionTimeoutMs / 4)).state).toBe("pending");
    expect(thirdEvents.events).toEqual([]);
    expect(firstTerm.isActive()).toBe(true);
    await firstTerm.resign();
    const thirdTerm = await thirdCampaign;
    expect(thirdTerm.isActive()).toBe(true);
    await thirdTerm.resign();
  });
});
