import type { LeaderInfo } from "@elector/core";
import { createEtcdElector } from "@elector/etcd";
import { describe, expect, it } from "vitest";
import { electorsForSuite } from "../../support/electors.js";
import { etcdWithClientForSuite } from "../../support/suite-servers.js";
import { electionKeysOf, uniqueElection, within } from "./helpers.js";

const ttlSeconds = 2;
const ttlMs = ttlSeconds * 1000;

describe("etcd elections whose names nest (jobs and jobs/billing)", () => {
  const started = etcdWithClientForSuite();
  const closedAfterEach = electorsForSuite();
  const elector = async (election: string, id: string, prefix?: string) => {
    const made = await createEtcdElector({
      election,
      id,
      endpoints: started().etcd.getClientEndpoints(),
      ttlSeconds,
      ...(prefix === undefined ? {} : { prefix }),
    });
    return closedAfterEach(made);
  };

  it("does not count a nested election's candidates, and refuses to wait behind one with a typed error", async () => {
    const jobs = uniqueElection("jobs");
    // Two candidates of election jobs/billing: one named so, one as billing under prefix jobs.
    const billing = await elector(`${jobs}/billing`, "billing");
    const prefixed = await elector("billing", "prefixed", jobs);
    const outer = await elector(jobs, "outer");
    const billingLeader = await billing.campaign({ value: "b" });
    const waiting = prefixed.campaign({ value: "p" });
    await within(
      (async () => {
        while ((await billing.participants()).length < 2) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })(),
      ttlMs,
      "the nested line",
    );
    expect(await outer.leader()).toBeUndefined();
    expect(await outer.participants()).toEqual([]);

    // The newest key in the range of jobs belongs to jobs/billing: not a candidate to wait for.
    await expect(outer.campaign({ value: "o" })).rejects.toMatchObject({
      name: "InvalidOptionError",
      code: "invalid-option",
      option: "election",
    });
    // The refused campaign left nothing behind.
    const left = await electionKeysOf(started().client, `${jobs}/`);
    expect(left.every((key) => key.startsWith(`${jobs}/billing`))).toBe(true);
    expect(left).toHaveLength(4);
    await billingLeader.resign();
    await (await waiting).resign();
  });

  it("elects the outer election's candidate ahead of a nested election's, and reports only its own", async () => {
    const jobs = uniqueElection("jobs");
    const outer = await elector(jobs, "outer");
    const observer = await elector(jobs, "observer");
    const billing = await elector(`${jobs}/billing`, "billing");
    const seen: (LeaderInfo | undefined)[] = [];
    const controller = new AbortController();
    const observation = (async () => {
      for await (const leader of observer.observe({ signal: controller.signal })) {
        seen.push(leader);
      }
    })();
    const leadership = await within(outer.campaign({ value: "o" }), ttlMs, "the outer campaign");
    const inner = await billing.campaign({ value: "b" });
    await inner.proclaim("b2");
    expect(await outer.leader()).toEqual({ id: "outer", value: "o", token: leadership.token });
    expect((await outer.participants()).map((participant) => participant.id)).toEqual(["outer"]);
    expect(await billing.leader()).toEqual({ id: "billing", value: "b2", token: inner.token });
    await leadership.proclaim("o2");
    await leadership.resign();
    await within(
      (async () => {
        while (seen.at(-1) !== undefined || seen.length < 4) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })(),
      ttlMs,
      "the observer's reports",
    );
    controller.abort();
    await observation;
    expect(seen).toEqual([
      undefined,
      { id: "outer", value: "o", token: leadership.token },
      { id: "outer", value: "o2", token: leadership.token },
      undefined,
    ]);
    await inner.resign();
  });
});
