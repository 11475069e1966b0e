import { isLeadershipLostError } from "@elector/core";
import { createEtcdElector, type EtcdElector, etcdClientOptions } from "@elector/etcd";
import { FaultProxy } from "@elector/testing";
import { Etcd3 } from "etcd3";
import { describe, expect, it } from "vitest";
import { electorsForSuite } from "../../support/electors.js";
import { etcdWithClientForSuite } from "../../support/suite-servers.js";
import {
  abortTime,
  electionKeysOf,
  keepAlivesReceived,
  lineOf,
  openKeepAliveStreams,
  uniqueElection,
} from "./helpers.js";

const ttlSeconds = 2;
const ttlMs = ttlSeconds * 1000;

describe("etcd elector cleanup and sharing", () => {
  const suite = etcdWithClientForSuite((etcd) => etcd.electionTimeoutMs);
  const started = () => {
    const { etcd, client } = suite();
    return { etcd, admin: client };
  };
  const closedAfterEach = electorsForSuite();
  const elector = async (election: string, id: string, endpoints?: string[]) =>
    closedAfterEach(
      await createEtcdElector({
        election,
        id,
        endpoints: endpoints ?? started().etcd.getClientEndpoints(),
        ttlSeconds,
      }),
    );

  it("leaves no key behind when a campaign is closed or aborted at any moment, before, during or after its create", async () => {
    const { etcd: server, admin: reader } = started();
    const election = uniqueElection("any-moment");
    const leader = (await elector(election, "leader")) as EtcdElector;
    await leader.campaign();
    const leaderKeys = await electionKeysOf(reader, leader.electionKey);
    expect(leaderKeys).toHaveLength(2);
    // Every request of the withdrawn candidate takes 2 × 15 ms: a grant, a create, the
    // watches and a re-check span the first ~100 ms, which the delays below walk through.
    await using proxy = await FaultProxy.start({ target: server.getClientEndpoint() });
    proxy.latency(15);
    for (let delayMs = 0; delayMs <= 150; delayMs += 5) {
      const withdrawn = await createEtcdElector({
        election,
        id: `withdrawn-${delayMs}`,
        endpoints: [proxy.endpoint],
        ttlSeconds,
      });
      const controller = new AbortController();
      const campaign = withdrawn.campaign({ signal: controller.signal });
      const outcome = campaign.then(
        () => "elected",
        (error: unknown) => (error as Error).name,
      );
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (delayMs % 10 === 0) {
        await withdrawn.close();
        expect(await outcome, `closed after ${delayMs} ms`).toBe("ElectorClosedError");
      } else {
        controller.abort();
        expect(await outcome, `aborted after ${delayMs} ms`).toBe("AbortError");
        await withdrawn.close();
      }
      expect(await electionKeysOf(reader, leader.electionKey), `after ${delayMs} ms`).toEqual(
        leaderKeys,
      );
    }
  });

  it("fails a waiting campaign whose key someone deletes with 'deleted', and revokes its lease so that its id key goes too", async () => {
    const { admin: reader } = started();
    const election = uniqueElection("deleted-waiter");
    const leader = (await elector(election, "leader")) as EtcdElector;
    const waiter = await elector(election, "waiter");
    await leader.campaign();
    const leaderKeys = await electionKeysOf(reader, leader.electionKey);
    const waiting = waiter.campaign();
    await lineOf(leader, 2, ttlMs);
    const [, candidate] = await reader
      .getAll()
      .prefix(`${leader.electionKey}/`)
      .sort("Create", "Ascend")
      .keys();
    if (candidate === undefined) throw new Error("the waiter has no key");
    await reader.delete().key(candidate).exec();

    const error = await waiting.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(isLeadershipLostError(error)).toBe(true);
    expect(error).toMatchObject({ code: "deleted", retryable: true });
    expect(await electionKeysOf(reader, leader.electionKey)).toEqual(leaderKeys);
  });

  it("ends the term with 'deleted' when someone else writes the leader's key, but not when the leader proclaims", async () => {
    const { admin: reader } = started();
    const candidate = (await elector(uniqueElection("foreign-write"), "candidate")) as EtcdElector;
    const leadership = await candidate.campaign({ value: "v1" });
    const steppedDownAt = abortTime(leadership.signal);
    await leadership.proclaim("v2");
    await leadership.proclaim("v3");
    expect(await candidate.leader()).toMatchObject({ value: "v3", token: leadership.token });
    const [kv] = (await reader.getAll().prefix(`${candidate.electionKey}/`).exec()).kvs;
    if (kv === undefined) throw new Error("the leader has no key");

    // The same lease and create revision, another value: only the elector's own writes count.
    const intrudedAt = performance.now();
    await reader.put(kv.key).value("intruder").lease(kv.lease).exec();
    await expect.poll(() => leadership.signal.reason?.code, { timeout: ttlMs }).toBe("deleted");
    expect(steppedDownAt()).toBeGreaterThanOrEqual(intrudedAt);
    expect(leadership.isActive()).toBe(false);
  });

  it("replaces a revoked lease with a new one on the next campaign, never renewing the dead one", async () => {
    const { admin: reader } = started();
    const election = uniqueElection("dead-lease");
    const candidate = (await elector(election, "candidate")) as EtcdElector;
    const first = await candidate.campaign();
    const [firstKey] = await reader.getAll().prefix(`${candidate.electionKey}/`).keys();
    const lease = await reader.getAll().prefix(`${candidate.electionKey}/`).exec();
    await reader.leaseClient.leaseRevoke({ ID: lease.kvs[0]?.lease ?? "0" });
    // The term ends at the key's delete; that the lease went too follows in the cause.
    await expect.poll(() => first.signal.reason?.code, { timeout: ttlMs }).toBe("deleted");

    const second = await candidate.campaign();
    const [secondKey] = await reader.getAll().prefix(`${candidate.electionKey}/`).keys();
    expect(second.token).toBeGreaterThan(first.token);
    expect(secondKey).not.toBe(firstKey);
    expect(second.isActive()).toBe(true);
  });

  it("renews every lease of electors that share a client over one keep-alive stream, and leaves the client open when they close", async () => {
    const { etcd: server, admin: reader } = started();
    const endpoint = server.getClientEndpoint();
    const election = uniqueElection("shared");
    const client = new Etcd3(etcdClientOptions({ endpoints: [endpoint] }));
    try {
      const electors = await Promise.all(
        ["a", "b", "c"].map((id) => createEtcdElector({ election, id, client, ttlSeconds })),
      );
      const first = await (electors[0] as EtcdElector).campaign();
      const waiting = electors.slice(1).map((waiter) => waiter.campaign());
      await lineOf(electors[0] as EtcdElector, 3, ttlMs);
      // Three leases (each elector's own), kept alive through one stream: two rounds of
      // keep-alives for all three arrive, and every lease is alive on the server.
      const kvs = (
        await reader
          .getAll()
          .prefix(`${(electors[0] as EtcdElector).electionKey}/`)
          .exec()
      ).kvs;
      const leases = [...new Set(kvs.map((kv) => kv.lease))];
      expect(leases).toHaveLength(3);
      const before = await keepAlivesReceived(endpoint);
      await expect
        .poll(async () => (await keepAlivesReceived(endpoint)) - before, { timeout: ttlMs * 2 })
        .toBeGreaterThanOrEqual(2 * leases.length);
      // Streams of electors closed by earlier tests may take a moment to end on the server.
      await expect.poll(() => openKeepAliveStreams(endpoint), { timeout: ttlMs }).toBe(1);
      for (const lease of leases) {
        const { TTL } = await reader.leaseClient.leaseTimeToLive({ ID: lease });
        expect(Number(TTL), `lease ${lease}`).toBeGreaterThan(0);
      }
      expect(first.isActive()).toBe(true);

      await Promise.all(electors.map((made) => made.close()));
      await Promise.allSettled(waiting);
      await expect.poll(() => openKeepAliveStreams(endpoint), { timeout: ttlMs }).toBe(0);
      await client.put(`${election}-still-open`).value("yes");
      expect(await client.get(`${election}-still-open`).string()).toBe("yes");
    } finally {
      client.close();
    }
  });
});
