import { createZooKeeperElector, type ZooKeeperElector } from "@elector/zookeeper";
import { afterEach, describe, expect, it } from "vitest";
import { CandidateProcess } from "../../fixtures/candidate-process.js";
import { eventually } from "../../support/eventually.js";
import { zooKeeperWithToolsForSuite } from "../../support/suite-servers.js";
import { abortedWithin, timeline } from "./support.js";

// Long enough that a loaded two-core machine does not trip the C client's own timeouts,
// short enough that a test waits it out in seconds.
const sessionTimeoutMs = 4000;
// How late a successor may come after the leader went silent (the bound).
const failoverBoundMs = sessionTimeoutMs + 1500;

describe("the ZooKeeper elector under faults", () => {
  const started = zooKeeperWithToolsForSuite();
  const cleanups: (() => Promise<unknown>)[] = [];
  let elections = 0;
  const election = () => `faults-${process.pid}-${Date.now().toString(36)}-${++elections}`;

  const electorOn = async (servers: string, name: string, id: string) => {
    const elector = await createZooKeeperElector({
      servers: [servers],
      sessionTimeoutMs,
      election: name,
      id,
    });
    cleanups.push(() => elector.close());
    return elector;
  };
  const proxy = async () => {
    const made = await started().proxyHost.proxy(started().zookeeper.getConnectionString());
    cleanups.push(() => made.close());
    return made;
  };
  const candidate = async (name: string, id: string) => {
    const url = `zk://${started().zookeeper.getConnectionString()}/elector?sessionTimeoutMs=${sessionTimeoutMs}`;
    const process = await CandidateProcess.start({ url, election: name, id });
    cleanups.push(() => process.stop());
    return process;
  };
  /** Waits until `count` candidates stand in line, as another session sees it. */
  const lineOf = (elector: ZooKeeperElector, count: number) =>
    eventually(
      `${count} in line`,
      sessionTimeoutMs,
      async () => {
        expect(await started().inspector.nodes(elector.electionPath)).toHaveLength(count);
      },
      20,
    );
  const electionPathOf = (name: string) => `/elector/${name}`;

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  it("suspends a leader black-holed past the session timeout as soon as it hears nothing, ends its term before a successor is elected, and elects the successor within the timeout + 1.5 s", async () => {
    const name = election();
    const link = await proxy();
    const leader = await electorOn(link.endpoint, name, "black-holed");
    const follower = await electorOn(started().zookeeper.getConnectionString(), name, "direct");
    const leaderEvents = timeline(leader);
    const leadership = await leader.campaign();
    const successor = follower.campaign();
    await lineOf(leader, 2);

    const cutAt = performance.now();
    await link.blackhole();
    const suspended = await leaderEvents.next("suspended", sessionTimeoutMs);
    expect(leadership.isActive()).toBe(false);
    // Our heartbeat goes every third of the timeout: one unanswered beat is noticed at the
    // next, two thirds at most after the cut (with room for a busy event loop).
    expect(suspended.at - cutAt).toBeLessThan((2 * sessionTimeoutMs) / 3 + 250);

    const lostAt = await abortedWithin(leadership.signal, sessionTimeoutMs);
    const elected = await successor;
    const electedAt = performance.now();
    expect(leadership.signal.reason).toMatchObject({ code: "connection-lost" });
    expect(lostAt).toBeLessThan(electedAt);
    // The local verdict falls at the last answer's send time + timeout − margin: before the
    // server can expire the session, a timeout after the last thing it heard.
    expect(lostAt - cutAt).toBeLessThan(sessionTimeoutMs);
    expect(electedAt - cutAt).toBeLessThan(failoverBoundMs);
    expect(elected.isActive()).toBe(true);
    expect(elected.token).toBeGreaterThan(leadership.token);
  });

  it("keeps a leader black-holed for less than the session timeout: suspended, then resumed, with the same node and token", async () => {
    const name = election();
    const link = await proxy();
    const leader = await electorOn(link.endpoint, name, "flaky");
    const events = timeline(leader);
    const leadership = await leader.campaign();
    const before = await started().inspector.nodes(electionPathOf(name));

    await link.blackhole();
    await events.next("suspended", sessionTimeoutMs);
    expect(leadership.isActive()).toBe(false);
    await link.heal();
    await events.next("resumed", sessionTimeoutMs);

    expect(leadership.isActive()).toBe(true);
    expect(leadership.signal.aborted).toBe(false);
    expect(events.events.map((entry) => entry.event)).toEqual(["elected", "suspended", "resumed"]);
    const after = await started().inspector.nodes(electionPathOf(name));
    expect(after).toEqual(before);
    expect(after[0]?.czxid).toBe(Number(leadership.token));
    // Still the leader's: a value change goes through.
    await leadership.proclaim("still-here");
    expect(await leader.leader()).toMatchObject({ id: "flaky", value: "still-here" });
  });

  it("elects a successor while the leader process is frozen past the session timeout, and the thawed leader knows it lost before it can act", async () => {
    const name = election();
    const frozen = await candidate(name, "frozen");
    await frozen.waitFor((event) => event.event === "leading", sessionTimeoutMs * 2);
    const follower = await electorOn(started().zookeeper.getConnectionString(), name, "awake");
    const successor = follower.campaign();
    await lineOf(follower, 2);

    const frozenAt = Date.now();
    frozen.freeze();
    const elected = await successor;
    const electedAt = Date.now();
    expect(electedAt - frozenAt).toBeLessThan(failoverBoundMs);
    expect(elected.isActive()).toBe(true);

    const thawedAt = Date.now();
    frozen.thaw();
    const lost = await frozen.waitFor((event) => event.event === "lost", sessionTimeoutMs);
    expect(["connection-lost", "session-expired"]).toContain(lost.reason);
    // Every tick the thawed process made says "not active": it never acted as leader after
    // the freeze, not even on its first tick. (A frozen process makes no ticks, so every tick
    // stamped after the freeze began was made after the thaw.)
    await frozen.waitFor((event) => event.event === "tick" && event.at >= thawedAt, 5000);
    const ticksAfterFreeze = frozen.events.filter(
      (event) => event.event === "tick" && event.at > frozenAt + 50,
    );
    expect(ticksAfterFreeze.length).toBeGreaterThan(0);
    expect(ticksAfterFreeze.filter((tick) => tick.active !== false)).toEqual([]);
  });

  it("elects a successor within the session timeout + 1.5 s when the leader process is killed", async () => {
    const name = election();
    const killed = await candidate(name, "killed");
    await killed.waitFor((event) => event.event === "leading", sessionTimeoutMs * 2);
    const follower = await electorOn(started().zookeeper.getConnectionString(), name, "heir");
    const successor = follower.campaign();
    await lineOf(follower, 2);

    const killedAt = performance.now();
    await killed.kill();
    const elected = await successor;
    expect(performance.now() - killedAt).toBeLessThan(failoverBoundMs);
    expect(elected.isActive()).toBe(true);
    expect(await started().inspector.nodes(follower.electionPath)).toMatchObject([{ id: "heir" }]);
  });

  it("ends the term with session-expired when the server ends the session, and campaigns next on a new session", async () => {
    const name = election();
    const link = await proxy();
    const leader = await electorOn(link.endpoint, name, "expiring");
    const leadership = await leader.campaign();
    const firstSession = leader.sessionId;
    await started().inspector.expireSession(leader, link);
    await abortedWithin(leadership.signal, sessionTimeoutMs);
    expect(leadership.signal.reason).toMatchObject({ code: "session-expired" });

    const next = await leader.campaign();
    expect(leader.sessionId).toBeDefined();
    expect(leader.sessionId).not.toBe(firstSession);
    expect(next.token).toBeGreaterThan(leadership.token);
    expect(await started().inspector.nodes(leader.electionPath)).toMatchObject([
      { id: "expiring", ephemeralOwner: leader.sessionId },
    ]);
  });

  it("finds a node whose create reply was lost by its GUID, instead of creating a second one", async () => {
    const name = election();
    const link = await proxy();
    const elector = await electorOn(link.endpoint, name, "protected");
    // Connect first, so that only the create crosses the slow link.
    expect(await elector.participants()).toEqual([]);
    const latencyMs = 400;
    await link.latency(latencyMs);
    const campaign = elector.campaign();
    // The create reached the server; its reply is still on the slow link: cut it.
    const created = await eventually(
      "the create arrives",
      sessionTimeoutMs,
      async () => {
        const nodes = await started().inspector.nodes(electionPathOf(name));
        expect(nodes).toHaveLength(1);
        return nodes;
      },
      10,
    );
    await link.latency(0);
    await link.resetConnections();

    const leadership = await campaign;
    const nodes = await started().inspector.nodes(electionPathOf(name));
    expect(nodes).toEqual(created);
    expect(leadership.token).toBe(BigInt(created[0]?.czxid ?? 0));
  });

  it("deletes the node of a campaign aborted while its create was in flight, before the campaign rejects", async () => {
    const name = election();
    const link = await proxy();
    const holder = await electorOn(started().zookeeper.getConnectionString(), name, "holder");
    const leadership = await holder.campaign();
    const elector = await electorOn(link.endpoint, name, "withdrawn");
    expect(await elector.participants()).toHaveLength(1);
    await link.latency(300);
    const controller = new AbortController();
    const campaign = elector.campaign({ signal: controller.signal });
    await eventually(
      "the create arrives",
      sessionTimeoutMs,
      async () => {
        expect(await started().inspector.nodes(electionPathOf(name))).toHaveLength(2);
      },
      10,
    );
    controller.abort();
    await expect(campaign).rejects.toMatchObject({ name: "AbortError" });
    // No polling: the node was deleted before the campaign rejected, on a live session.
    expect(await started().inspector.nodes(electionPathOf(name))).toMatchObject([{ id: "holder" }]);
    expect(elector.closed).toBe(false);
    await leadership.resign();
  });

  it("leaves no node behind when the elector is closed while its create is in flight", async () => {
    const name = election();
    const link = await proxy();
    const elector = await electorOn(link.endpoint, name, "closing");
    expect(await elector.participants()).toEqual([]);
    await link.latency(300);
    const campaign = elector.campaign();
    await eventually(
      "the create arrives",
      sessionTimeoutMs,
      async () => {
        expect(await started().inspector.nodes(electionPathOf(name))).toHaveLength(1);
      },
      10,
    );
    await elector.close();
    await expect(campaign).rejects.toMatchObject({ code: "elector-closed" });
    expect(await started().inspector.nodes(electionPathOf(name))).toEqual([]);
  });
});
