import { createEtcdElector, etcdClientOptions } from "@elector/etcd";
import { Etcd3 } from "etcd3";
import { describe, expect, it } from "vitest";
import { etcdWithClientForSuite } from "../../support/suite-servers.js";
import {
  keepAlivesReceived,
  lineOf,
  openKeepAliveStreams,
  uniqueElection,
  within,
} from "./helpers.js";

const ttlSeconds = 2;
const ttlMs = ttlSeconds * 1000;

describe("etcd electors sharing one client", () => {
  const started = etcdWithClientForSuite();

  it("keep their watch and keep-alive streams when etcd3 resets the client's connection after a cancelled stream", async () => {
    const endpoint = started().etcd.getClientEndpoint();
    const client = new Etcd3(etcdClientOptions({ endpoints: [endpoint] }));
    // etcd3 closes every gRPC service of a host on each recoverable error, a cancelled stream
    // included; counted here through its internals, to prove that the reset happened.
    const host = (client as unknown as { pool: { hosts: { resetAllServices(): void }[] } }).pool
      .hosts[0];
    if (host === undefined) throw new Error("the client has no host");
    let resets = 0;
    const reset = host.resetAllServices.bind(host);
    host.resetAllServices = () => {
      resets++;
      reset();
    };
    try {
      const election = uniqueElection("shared-reset");
      const [a, b] = await Promise.all(
        ["a", "b"].map((id) => createEtcdElector({ election, id, client, ttlSeconds })),
      );
      if (a === undefined || b === undefined) throw new Error("no electors");
      const leadership = await a.campaign();
      const waiting = b.campaign();
      await lineOf(a, 2, ttlMs);

      // What the lease keeper does to a keep-alive stream that stays silent: cancel it.
      const stream = await client.leaseClient.leaseKeepAlive();
      stream.on("error", () => {});
      stream.cancel();
      await expect.poll(() => resets, { timeout: ttlMs }).toBeGreaterThan(0);

      // The keep-alive stream that both leases share goes on: no new stream is opened, and
      // etcd receives keep-alives for both leases, past two TTLs.
      const received = await keepAlivesReceived(endpoint);
      await new Promise((resolve) => setTimeout(resolve, ttlMs * 2));
      expect(leadership.isActive()).toBe(true);
      expect((await keepAlivesReceived(endpoint)) - received).toBeGreaterThanOrEqual(6);
      expect(await openKeepAliveStreams(endpoint)).toBe(1);
      // The waiter's watch on its predecessor still works: only that watch can wake it, and
      // a resign elects it within half a TTL.
      await leadership.resign();
      const next = await within(waiting, ttlMs / 2, "the waiter's election");
      expect(next.isActive()).toBe(true);
      await Promise.all([a.close(), b.close()]);
    } finally {
      client.close();
    }
  });
});
