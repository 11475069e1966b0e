import type { Elector, LeaderInfo } from "@elector/core";
import { createEtcdElector, type EtcdElector } from "@elector/etcd";
import { describe, expect, it } from "vitest";
import { electorsForSuite } from "../../support/electors.js";
import { etcdForSuite } from "../../support/suite-servers.js";
import { lineOf, uniqueElection, within } from "./helpers.js";

const ttlSeconds = 2;
const ttlMs = ttlSeconds * 1000;

describe("etcd elector observe()", () => {
  const started = etcdForSuite();
  const closedAfterEach = electorsForSuite();
  const elector = async (election: string, id: string) => {
    const made = await createEtcdElector({
      election,
      id,
      endpoints: started().getClientEndpoints(),
      ttlSeconds,
    });
    return closedAfterEach(made);
  };

  /** Observes `observer` until stopped; `until(n)` waits for the n-th report. */
  const observing = (observer: Elector) => {
    const seen: (LeaderInfo | undefined)[] = [];
    const controller = new AbortController();
    const done = (async () => {
      for await (const leader of observer.observe({ signal: controller.signal })) seen.push(leader);
    })();
    const until = (count: number) =>
      within(
        (async () => {
          while (seen.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
        })(),
        ttlMs * 2,
        `report ${count} (saw ${seen.length})`,
      );
    const stop = async () => {
      controller.abort();
      await done;
      return seen;
    };
    return { seen, until, stop };
  };

  it("reports every short-lived leader and every gap in order, however fast they follow each other", async () => {
    const election = uniqueElection("observe-burst");
    const [observer, a, b, c, d] = (await Promise.all(
      ["observer", "a", "b", "c", "d"].map((id) => elector(election, id)),
    )) as [EtcdElector, EtcdElector, EtcdElector, EtcdElector, EtcdElector];
    const observed = observing(observer);
    await observed.until(1);
    const leaderA = await a.campaign({ value: "a" });
    await observed.until(2);
    const pendingB = b.campaign({ value: "b" });
    await lineOf(observer, 2, ttlMs);
    const pendingC = c.campaign({ value: "c" });
    await lineOf(observer, 3, ttlMs);
    // A burst: each handoff and the gap last about one round trip, shorter than a reread.
    await leaderA.resign();
    const leaderB = await pendingB;
    await leaderB.resign();
    const leaderC = await pendingC;
    await leaderC.resign();
    const leaderD = await d.campaign({ value: "d" });
    await observed.until(6);
    expect(await observed.stop()).toEqual([
      undefined,
      { id: "a", value: "a", token: leaderA.token },
      { id: "b", value: "b", token: leaderB.token },
      { id: "c", value: "c", token: leaderC.token },
      undefined,
      { id: "d", value: "d", token: leaderD.token },
    ]);
  });
});
