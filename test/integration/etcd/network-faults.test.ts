import { type Elector, type Leadership, lead } from "@elector/core";
import { createEtcdElector } from "@elector/etcd";
import { FaultProxy } from "@elector/testing";
import { describe, expect, it } from "vitest";
import { electorsForSuite } from "../../support/electors.js";
import { etcdForSuite } from "../../support/suite-servers.js";
import { abortTime, lineOf, timedCampaign, uniqueElection, within } from "./helpers.js";

const ttlSeconds = 2;
const ttlMs = ttlSeconds * 1000;
const safetyMarginMs = 500;

describe("etcd elector under network and server faults", () => {
  const started = etcdForSuite();
  const closedAfterEach = electorsForSuite();
  const elector = async (election: string, id: string, endpoints: string[]) =>
    closedAfterEach(
      await createEtcdElector({ election, id, endpoints, ttlSeconds, safetyMarginMs }),
    );

  it("steps a black-holed leader down before its successor is elected, which follows within TTL + 1.5 s of the last acknowledged keep-alive", async () => {
    const server = started();
    const election = uniqueElection("blackhole");
    await using proxy = await FaultProxy.start({ target: server.getClientEndpoint() });
    const cutOff = await elector(election, "cut-off", [proxy.endpoint]);
    const successor = await elector(election, "successor", server.getClientEndpoints());
    const elected: string[] = [];
    cutOff.on("elected", () => elected.push("elected"));
    cutOff.on("lost", ({ reason }) => elected.push(`lost:${reason}`));

    const leadership = await cutOff.campaign();
    const steppedDownAt = abortTime(leadership.signal);
    const next = timedCampaign(successor);
    await lineOf(successor, 2, ttlMs);

    proxy.blackhole();
    const { leadership: successorLeadership, electedAt } = await within(
      next,
      ttlMs * 2 + 1500,
      "the successor's election",
    );

    expect(leadership.signal.reason).toMatchObject({ code: "deadline-passed" });
    expect(steppedDownAt()).toBeLessThan(electedAt);
    // deadline() is the send time of the last acknowledged keep-alive + TTL − margin.
    const lastAcknowledgedSendAt = leadership.deadline() - ttlMs + safetyMarginMs;
    expect(electedAt - lastAcknowledgedSendAt).toBeLessThanOrEqual(ttlMs + 1500);

    proxy.heal();
    // Once its connection works again, the old leader sees the successor lead, and itself not.
    await expect
      .poll(async () => (await cutOff.leader())?.id, { timeout: ttlMs * 2 })
      .toBe(successor.id);
    expect(leadership.isActive()).toBe(false);
    expect(successorLeadership.isActive()).toBe(true);
    expect(elected).toEqual(["elected", "lost:deadline-passed"]);
  });

  it("steps the leader down at its deadline while the server is paused, and leaves exactly one leader once it resumes", async () => {
    const server = started();
    const election = uniqueElection("paused");
    const candidates = [
      await elector(election, "a", server.getClientEndpoints()),
      await elector(election, "b", server.getClientEndpoints()),
    ];
    const terms: Leadership[] = [];
    let overlaps = 0;
    const stop = new AbortController();
    const runs = candidates.map((candidate) =>
      lead(
        candidate,
        async (leadership) => {
          if (terms.some((term) => term !== leadership && term.isActive())) overlaps++;
          terms.push(leadership);
          await new Promise((resolve) =>
            leadership.signal.addEventListener("abort", resolve, { once: true }),
          );
        },
        { signal: stop.signal, backoff: { minDelayMs: 50, maxDelayMs: 500 }, onError: () => {} },
      ),
    );
    await expect.poll(() => terms.length, { timeout: ttlMs }).toBe(1);
    await lineOf(candidates[0] as Elector, 2, ttlMs);
    const first = terms[0] as Leadership;
    const steppedDownAt = abortTime(first.signal);

    await server.pause();
    const pausedAt = performance.now();
    try {
      await within(
        new Promise((resolve) => first.signal.addEventListener("abort", resolve, { once: true })),
        ttlMs,
        "the leader stepping down",
      );
      expect(first.signal.reason).toMatchObject({ code: "deadline-passed" });
      // The timer fired at the deadline: late by less than the safety margin, which is what
      // the margin is there to absorb (a busy event loop on a shared machine).
      expect((steppedDownAt() ?? 0) - first.deadline()).toBeLessThan(safetyMarginMs);
      // Keep the server frozen past the TTL, so that every lease expires on it too.
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, pausedAt + ttlMs + 1000 - performance.now())),
      );
    } finally {
      await server.unpause();
    }

    const active = () => terms.filter((term) => term.isActive());
    await expect.poll(() => active().length, { timeout: ttlMs * 3 }).toBe(1);
    const leader = active()[0] as Leadership;
    expect(await (candidates[0] as Elector).leader()).toMatchObject({ token: leader.token });
    expect(overlaps).toBe(0);
    expect(terms.indexOf(leader)).toBeGreaterThan(0);
    stop.abort();
    await Promise.all(runs);
  });

  // 300 ms each way against a 400 ms request timeout: a proclaim reaches etcd, which applies
  // it, and its answer comes back too late. A keep-alive's round trip, 600 ms, still fits in
  // its interval (TTL/3) and in TTL − margin.
  const latencyMs = 300;
  const requestTimeoutMs = 400;

  /** A leader that talks to etcd through `proxy`, and a reader that talks to etcd directly. */
  const proclaimerBehind = async (proxy: FaultProxy, name: string, ttlSeconds: number) => {
    const leaderElector = await createEtcdElector({
      election: uniqueElection(name),
      id: "proclaimer",
      endpoints: [proxy.endpoint],
      ttlSeconds,
      safetyMarginMs,
      requestTimeoutMs,
    });
    closedAfterEach(leaderElector);
    const reader = await elector(leaderElector.election, "reader", started().getClientEndpoints());
    const leadership = await leaderElector.campaign({ value: "v1" });
    return { leaderElector, reader, leadership };
  };

  it("keeps the term when a proclaim is applied but its answer is lost, taking the value for its own", async () => {
    await using proxy = await FaultProxy.start({ target: started().getClientEndpoint() });
    const { reader, leadership } = await proclaimerBehind(proxy, "lost-answer", 3);

    proxy.latency(latencyMs);
    await expect(leadership.proclaim("v2")).rejects.toMatchObject({ code: "connection-failed" });
    // etcd applied it: a direct client reads the new value under the same term.
    await expect
      .poll(async () => (await reader.leader())?.value, { timeout: 4 * latencyMs })
      .toBe("v2");
    // Held bytes (the watch's report of that put among them) are delivered now.
    proxy.heal();
    await leadership.proclaim("v3");

    expect(leadership.signal.aborted).toBe(false);
    expect(leadership.isActive()).toBe(true);
    expect(await reader.leader()).toMatchObject({
      id: "proclaimer",
      value: "v3",
      token: leadership.token,
    });
  });

  it("keeps the term when a proclaim is applied and the connection drops with its answer", async () => {
    await using proxy = await FaultProxy.start({ target: started().getClientEndpoint() });
    // As above, and then the connection is reset while the answer (and the watch's report of
    // the put) are still held: the watch breaks, and the re-check after it finds the value.
    // TTL 5 s: the keep-alives' reconnection has seconds to spare.
    const { leaderElector, reader, leadership } = await proclaimerBehind(
      proxy,
      "lost-connection",
      5,
    );

    proxy.latency(latencyMs);
    await expect(leadership.proclaim("v2")).rejects.toMatchObject({ code: "connection-failed" });
    proxy.latency(0);
    proxy.resetConnections();
    await expect.poll(async () => (await reader.leader())?.value, { timeout: 2_000 }).toBe("v2");
    // The elector's own reads work again, and so does the re-check of its key behind them.
    await expect
      .poll(async () => (await leaderElector.leader())?.value, { timeout: 4_000 })
      .toBe("v2");
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    expect(leadership.signal.reason).toBeUndefined();
    expect(leadership.isActive()).toBe(true);
    await leadership.proclaim("v3");
    expect(await reader.leader()).toMatchObject({ value: "v3", token: leadership.token });
  });
});
