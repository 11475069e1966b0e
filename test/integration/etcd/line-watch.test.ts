import type { Logger } from "@elector/core";
import { createEtcdElector, type EtcdElector, etcdClientOptions } from "@elector/etcd";
import { FaultProxy } from "@elector/testing";
import { Etcd3 } from "etcd3";
import { describe, expect, it } from "vitest";
import { keepsWatchOrder } from "../../../packages/etcd/src/server-version.js";
import { etcdWithClientForSuite } from "../../support/suite-servers.js";
import { abortTime, txnsHandled, uniqueElection, within } from "./helpers.js";

const ttlSeconds = 3;
const ttlMs = ttlSeconds * 1000;

/** A logger that counts the driver's debug messages ("waiting", "woken", …). */
function countingLogger(): { logger: Logger; count: (message: string) => number } {
  const counts = new Map<string, number>();
  const record = (first: unknown, message?: string) => {
    const text = typeof first === "string" ? first : (message ?? "");
    counts.set(text, (counts.get(text) ?? 0) + 1);
  };
  const logger: Logger = {
    debug: record,
    info: record,
    warn: record,
    error: record,
    child: () => logger,
  };
  return { logger, count: (message) => counts.get(message) ?? 0 };
}

/** A client of its own for the waiter, counting the transactions its electors send. */
function countingClient(endpoint: string): { client: Etcd3; txns: () => number } {
  const client = new Etcd3(etcdClientOptions({ endpoints: [endpoint] }));
  let sent = 0;
  const txn = client.kv.txn.bind(client.kv);
  client.kv.txn = (...args: Parameters<typeof txn>) => {
    sent++;
    return txn(...args);
  };
  return { client, txns: () => sent };
}

describe("etcd waiter on the election's one ordered watch", () => {
  const started = etcdWithClientForSuite();

  /**
   * The re-checks after a handoff at the head of the line: none on a server that keeps a
   * watcher's order; one on a server that may drop a starved watcher's changes (etcd 3.4).
   */
  const rechecksAtTheHead = async () =>
    keepsWatchOrder((await started().client.maintenance.status()).version) ? 0 : 1;

  /** A leader on a client of its own, and a waiter behind it whose join was answered. */
  async function leaderAndWaiter(what: string, waiterEndpoint?: string) {
    const { etcd, client: admin } = started();
    const endpoint = etcd.getClientEndpoint();
    const election = uniqueElection(what);
    const leader = await createEtcdElector({
      election,
      id: "leader",
      endpoints: [endpoint],
      ttlSeconds,
    });
    const counting = countingClient(waiterEndpoint ?? endpoint);
    const { logger, count } = countingLogger();
    const waiter = await createEtcdElector({
      election,
      id: "waiter",
      client: counting.client,
      ttlSeconds,
      logger,
    });
    const leadership = await leader.campaign();
    const campaign = waiter.campaign();
    campaign.catch(() => {});
    await expect.poll(() => count("waiting"), { timeout: ttlMs }).toBe(1);
    const keys = (await admin.getAll().prefix(`${leader.electionKey}/`).exec()).kvs.sort((a, b) =>
      Number(BigInt(a.create_revision) - BigInt(b.create_revision)),
    );
    const [leaderKey, waiterKey] = keys.map((kv) => kv.key.toString());
    if (leaderKey === undefined || waiterKey === undefined) throw new Error("two keys expected");
    const close = async () => {
      await Promise.allSettled([leader.close(), waiter.close()]);
      counting.client.close();
    };
    return {
      admin,
      endpoint,
      leader,
      waiter,
      leadership,
      campaign,
      leaderKey,
      waiterKey,
      txns: counting.txns,
      count,
      close,
    };
  }

  it("leads at the delete of a predecessor that was the head of the line, with no re-check transaction where the server keeps watch order", async () => {
    const rechecks = await rechecksAtTheHead();
    const setup = await leaderAndWaiter("no-recheck");
    try {
      expect(setup.txns()).toBe(1);
      const handledBefore = await txnsHandled(setup.endpoint);
      await setup.leadership.resign();
      const won = await within(setup.campaign, ttlMs, "the waiter's election");
      expect(won.token).toBeGreaterThan(setup.leadership.token);
      expect(won.isActive()).toBe(true);
      // Neither the waiter's client nor etcd saw a transaction between the join and the win
      // (but the re-check that a server without the watch fixes still needs).
      expect(setup.txns()).toBe(1 + rechecks);
      expect(await txnsHandled(setup.endpoint)).toBe(handledBefore + rechecks);
      await won.resign();
    } finally {
      await setup.close();
    }
  });

  it("is never elected when its own key is deleted in the revision before its predecessor's", async () => {
    const setup = await leaderAndWaiter("own-key-first");
    try {
      const lost = abortTime(setup.leadership.signal);
      await setup.admin.delete().key(setup.waiterKey);
      await setup.admin.delete().key(setup.leaderKey);
      await expect(within(setup.campaign, ttlMs, "the waiter's campaign")).rejects.toMatchObject({
        code: "deleted",
      });
      expect(lost()).toBeDefined();
      expect(setup.count("woken")).toBeLessThanOrEqual(1);
    } finally {
      await setup.close();
    }
  });

  it("is never elected when its own key and its predecessor are deleted in one revision", async () => {
    const setup = await leaderAndWaiter("own-key-same-revision");
    try {
      await setup.admin.kv.txn({
        compare: [],
        success: [
          { request_delete_range: { key: Buffer.from(setup.waiterKey) } },
          { request_delete_range: { key: Buffer.from(setup.leaderKey) } },
        ],
        failure: [],
      });
      await expect(within(setup.campaign, ttlMs, "the waiter's campaign")).rejects.toMatchObject({
        code: "deleted",
      });
    } finally {
      await setup.close();
    }
  });

  it("re-checks after its watch stream breaks, and leads once the predecessor whose delete it missed is gone", async () => {
    const { etcd } = started();
    await using proxy = await FaultProxy.start({ target: etcd.getClientEndpoint() });
    const setup = await leaderAndWaiter("interrupted", proxy.endpoint);
    try {
      expect(setup.txns()).toBe(1);
      // The stream breaks, and the predecessor goes while the waiter reconnects: the new
      // watch, from now, cannot carry that delete. Only the re-check can find it gone.
      proxy.resetConnections();
      await setup.leadership.resign();
      const won = await within(setup.campaign, ttlMs, "the waiter's election");
      expect(setup.leadership.signal.aborted).toBe(true);
      expect(setup.txns()).toBeGreaterThanOrEqual(2);
      expect(won.isActive()).toBe(true);
      // It follows its key on the new watch: a delete by someone else ends the term.
      const [own] = await setup.admin.getAll().prefix(`${setup.waiter.electionKey}/`).keys();
      if (own === undefined) throw new Error("the new leader has no key");
      await setup.admin.delete().key(own);
      await expect.poll(() => won.signal.aborted, { timeout: ttlMs }).toBe(true);
      expect(won.signal.reason).toMatchObject({ code: "deleted" });
    } finally {
      await setup.close();
    }
  });

  it("keeps waiting through a broken stream while the predecessor lives, then leads at its delete", async () => {
    const rechecks = await rechecksAtTheHead();
    const { etcd } = started();
    await using proxy = await FaultProxy.start({ target: etcd.getClientEndpoint() });
    const setup = await leaderAndWaiter("interrupted-waiting", proxy.endpoint);
    try {
      proxy.resetConnections();
      // The re-check after the break finds the leader still there: the waiter waits again.
      await expect.poll(() => setup.count("waiting"), { timeout: ttlMs }).toBe(2);
      expect(setup.txns()).toBe(2);
      await setup.leadership.resign();
      const won = await within(setup.campaign, ttlMs, "the waiter's election");
      expect(won.token).toBeGreaterThan(setup.leadership.token);
      // The re-check found the leader at the head: its delete alone elected the waiter.
      expect(setup.txns()).toBe(2 + rechecks);
      await won.resign();
    } finally {
      await setup.close();
    }
  });

  it("re-reads a leader's key on a new watch after its stream breaks, and sees a later delete of it", async () => {
    const { etcd, client: admin } = started();
    await using proxy = await FaultProxy.start({ target: etcd.getClientEndpoint() });
    const leader: EtcdElector = await createEtcdElector({
      election: uniqueElection("leader-interrupted"),
      id: "leader",
      endpoints: [proxy.endpoint],
      ttlSeconds,
    });
    try {
      const leadership = await leader.campaign();
      proxy.resetConnections();
      // Reconnected once a read through the elector's client goes through again.
      await expect.poll(async () => (await leader.leader())?.id, { timeout: ttlMs }).toBe("leader");
      expect(leadership.isActive()).toBe(true);
      const [own] = await admin.getAll().prefix(`${leader.electionKey}/`).keys();
      if (own === undefined) throw new Error("the leader has no key");
      await admin.delete().key(own);
      await expect.poll(() => leadership.signal.aborted, { timeout: ttlMs }).toBe(true);
      expect(leadership.signal.reason).toMatchObject({ code: "deleted" });
    } finally {
      await leader.close();
    }
  });
});
