import { createElector } from "@elector/core";
import {
  EtcdFence,
  guardedTxn,
  isFenceStoreError,
  isStaleLeaderError,
  isStaleTokenError,
} from "@elector/fencing";
import type { Etcd3 } from "etcd3";
import { describe, expect, it } from "vitest";
import { etcdWithClientForSuite } from "../../support/suite-servers.js";

describe("etcd: EtcdFence and guardedTxn", () => {
  const suite = etcdWithClientForSuite();
  const started = () => suite().client;

  /** A candidate key on a lease, laid out as the etcd backend and Go's Election do. */
  async function candidate(etcdClient: Etcd3, election: string, value: string) {
    const lease = etcdClient.lease(30, { autoKeepAlive: false });
    const id = BigInt(await lease.grant());
    const key = `${election}/${id.toString(16)}`;
    const put = await lease.put(key).value(value);
    return { key, token: BigInt(put.header.revision), revoke: () => lease.revoke() };
  }

  it("applies the resource's own write with the admission, and neither for a stale token", async () => {
    const etcdClient = started();
    const fence = new EtcdFence(etcdClient);
    await fence.admit("config", 34n, { operations: [etcdClient.put("config/value").value("B")] });
    const stale = await fence
      .admit("config", 33n, { operations: [etcdClient.put("config/value").value("A")] })
      .catch((error: unknown) => error);
    expect(isStaleTokenError(stale)).toBe(true);
    expect(stale).toMatchObject({ presented: 33n, highest: 34n, resource: "config" });
    expect(await etcdClient.get("config/value").string()).toBe("B");
    expect(await fence.highest("config")).toBe(34n);
    // Zero-padded, so that etcd's byte comparison is numeric order.
    expect(await etcdClient.get("elector/fences/config").string()).toBe("0000000000000000034");
  });

  it("compares tokens numerically above 2^53 and across digit counts", async () => {
    const fence = new EtcdFence(started());
    await fence.admit("big", 9n);
    await fence.admit("big", 10n);
    await fence.admit("big", 2n ** 53n + 1n);
    await expect(fence.admit("big", 2n ** 53n)).rejects.toMatchObject({
      code: "stale-token",
      highest: 2n ** 53n + 1n,
    });
    expect(await fence.highest("big")).toBe(9007199254740993n);
  });

  it("works through a namespaced client, keeping its marks under the namespace", async () => {
    const etcdClient = started();
    const fence = new EtcdFence(etcdClient.namespace("tenant-a/"), { prefix: "marks/" });
    await fence.admit("jobs", 7n);
    expect(await etcdClient.get("tenant-a/marks/jobs").string()).toBe("0000000000000000007");
    expect(await new EtcdFence(etcdClient).highest("jobs")).toBeUndefined();
  });

  it("refuses to read a key that holds something else than a mark, without retrying", async () => {
    const etcdClient = started();
    await etcdClient.put("elector/fences/foreign").value("hello");
    const error = await new EtcdFence(etcdClient)
      .highest("foreign")
      .catch((failure: unknown) => failure);
    expect(isFenceStoreError(error)).toBe(true);
    expect(error).toMatchObject({
      retryable: false,
      message: expect.stringContaining("does not hold a fence high-water mark"),
    });
  });

  it("guardedTxn applies the leader's write while its key holds its token, and nothing once the lease is gone", async () => {
    const etcdClient = started();
    const leader = await candidate(etcdClient, "guarded", "A");
    const response = await guardedTxn(etcdClient, { key: leader.key, token: leader.token }, [
      etcdClient.put("guarded-data/owner").value("A"),
    ]);
    expect(response.succeeded).toBe(true);
    expect(await etcdClient.get("guarded-data/owner").string()).toBe("A");

    await leader.revoke(); // what lease expiry does while the leader is paused
    const error = await guardedTxn(etcdClient, { key: leader.key, token: leader.token }, [
      etcdClient.put("guarded-data/owner").value("A-late"),
    ]).catch((failure: unknown) => failure);
    expect(isStaleLeaderError(error)).toBe(true);
    expect(error).toMatchObject({ key: leader.key, token: leader.token, current: undefined });
    expect(await etcdClient.get("guarded-data/owner").string()).toBe("A");
  });

  it("guardedTxn finds the leader's key by its token under the election's prefix, and refuses a deposed leader's", async () => {
    const etcdClient = started();
    const a = await candidate(etcdClient, "by-prefix", "A");
    const b = await candidate(etcdClient, "by-prefix", "B");
    await guardedTxn(etcdClient, { keyPrefix: "by-prefix/", token: a.token }, [
      etcdClient.put("by-prefix-data/owner").value("A"),
    ]);
    await a.revoke(); // A is deposed: B, next in line, leads with its greater token
    await guardedTxn(etcdClient, { keyPrefix: "by-prefix/", token: b.token }, [
      etcdClient.put("by-prefix-data/owner").value("B"),
    ]);
    const error = await guardedTxn(etcdClient, { keyPrefix: "by-prefix/", token: a.token }, [
      etcdClient.put("by-prefix-data/owner").value("A-late"),
    ]).catch((failure: unknown) => failure);
    expect(error).toMatchObject({ code: "stale-leader", key: "by-prefix/", token: a.token });
    expect(await etcdClient.get("by-prefix-data/owner").string()).toBe("B");
    await b.revoke();
  });

  it("guardedTxn guards with a leadership of the etcd backend: its token finds its key under `<election>/`", async () => {
    const etcdClient = started();
    const server = suite().etcd;
    const election = "guarded-by-elector";
    await using elector = await createElector(
      `etcd://${server.getHost()}:${server.getClientPort()}?ttl=2`,
      {
        election,
        id: "A",
      },
    );
    const leadership = await elector.campaign();
    const guard = { keyPrefix: `${election}/`, token: leadership.token };
    await guardedTxn(etcdClient, guard, [etcdClient.put("elector-data/owner").value("A")]);
    expect(await etcdClient.get("elector-data/owner").string()).toBe("A");

    await leadership.resign(); // its key goes, as with an expired lease
    const error = await guardedTxn(etcdClient, guard, [
      etcdClient.put("elector-data/owner").value("A-late"),
    ]).catch((failure: unknown) => failure);
    expect(isStaleLeaderError(error)).toBe(true);
    expect(await etcdClient.get("elector-data/owner").string()).toBe("A");
  });
});
