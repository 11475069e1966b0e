import { createEtcdElector, type EtcdElector } from "@elector/etcd";
import { FaultProxy } from "@elector/testing";
import { describe, expect, it } from "vitest";
import { etcdForSuite } from "../../support/suite-servers.js";
import { lineOf, uniqueElection } from "./helpers.js";

// Keep-alives go out every TTL/3 = 1 s; a leader keeps its term through any round trip
// shorter than TTL − margin − one interval = 1.5 s.
const ttlSeconds = 3;
const ttlMs = ttlSeconds * 1000;
const safetyMarginMs = 500;
const intervalMs = ttlMs / 3;
/** Each way: a round trip of 1.2 s, longer than an interval, shorter than the bound. */
const latencyMs = 600;

describe("etcd elector under latency", () => {
  const etcd = etcdForSuite();

  it("keeps the term through round trips longer than a keep-alive interval and shorter than TTL − margin − one interval", async () => {
    expect(2 * latencyMs).toBeGreaterThan(intervalMs);
    expect(2 * latencyMs).toBeLessThan(ttlMs - safetyMarginMs - intervalMs);
    const server = etcd();
    const election = uniqueElection("latency");
    await using proxy = await FaultProxy.start({ target: server.getClientEndpoint() });
    const electors: EtcdElector[] = [];
    try {
      const slow = await createEtcdElector({
        election,
        id: "slow",
        endpoints: [proxy.endpoint],
        ttlSeconds,
        safetyMarginMs,
      });
      electors.push(slow);
      const waiter = await createEtcdElector({
        election,
        id: "waiter",
        endpoints: server.getClientEndpoints(),
        ttlSeconds,
        safetyMarginMs,
      });
      electors.push(waiter);
      const leadership = await slow.campaign();
      let waiterElected = false;
      void waiter.campaign().then(
        () => {
          waiterElected = true;
        },
        () => {},
      );
      await lineOf(waiter, 2, ttlMs);

      proxy.latency(latencyMs);
      const deadlineBefore = leadership.deadline();
      // Three TTLs: without answers the deadline would have passed twice over.
      await new Promise((resolve) => setTimeout(resolve, 3 * ttlMs));

      expect(leadership.signal.reason).toBeUndefined();
      expect(leadership.isActive()).toBe(true);
      // Renewals sent under the latency were acknowledged and moved the deadline on.
      expect(leadership.deadline()).toBeGreaterThan(deadlineBefore + 2 * ttlMs);
      expect(waiterElected).toBe(false);
      expect(await waiter.leader()).toMatchObject({ id: "slow", token: leadership.token });
    } finally {
      proxy.latency(0);
      await Promise.all(electors.map((elector) => elector.close()));
    }
  });
});
