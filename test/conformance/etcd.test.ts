import type { Elector } from "@elector/core";
import { createEtcdElector, type EtcdElector } from "@elector/etcd";
import { EtcdContainer, FaultProxy } from "@elector/testing";
import type { Etcd3 } from "etcd3";
import { openEtcdClient } from "../support/etcd-client.js";
import type { EtcdWithClient } from "../support/suite-servers.js";
import { describeConformance } from "./suite.js";

const ttlSeconds = 2;
/** Each candidate reaches etcd through a proxy of its own, so that one can be cut off. */
const proxies = new Map<Elector, FaultProxy>();

/** The leader's candidate key, read by another client. */
async function leaderKey(admin: Etcd3, elector: Elector, token: bigint) {
  const name = (elector as EtcdElector).electionKey;
  const { kvs } = await admin.getAll().prefix(`${name}/`).exec();
  const kv = kvs.find((candidate) => candidate.create_revision === token.toString());
  if (kv === undefined) throw new Error(`no candidate key with create revision ${token}`);
  return kv;
}

const servers = {
  start: async (): Promise<EtcdWithClient> => {
    const etcd = await new EtcdContainer().start();
    return { etcd, client: openEtcdClient(etcd.getClientEndpoints(), etcd.electionTimeoutMs) };
  },
  stop: async ({ etcd, client }: EtcdWithClient) => {
    await Promise.all([...proxies.values()].map((proxy) => proxy.close()));
    client.close();
    await etcd.remove();
  },
  servers: ({ etcd }: EtcdWithClient) => [etcd],
};

describeConformance("etcd", servers, (started) => ({
  ttlMs: ttlSeconds * 1000,
  async create(election, id) {
    const proxy = await FaultProxy.start({ target: started().etcd.getClientEndpoint() });
    const elector = await createEtcdElector({
      election,
      id,
      endpoints: [proxy.endpoint],
      ttlSeconds,
    });
    proxies.set(elector, proxy);
    return elector;
  },
  faults: [
    {
      name: "another client deletes the leader's key",
      reason: "deleted",
      async inject(elector, leadership) {
        const kv = await leaderKey(started().client, elector, leadership.token);
        await started().client.delete().key(kv.key).exec();
      },
    },
    {
      // The own key's delete ends the term at once, before a successor can be elected; that
      // the lease went too follows in the cause (CandidateKeyLostError.leaseGone).
      name: "another client revokes the leader's lease",
      reason: "deleted",
      async inject(elector, leadership) {
        const kv = await leaderKey(started().client, elector, leadership.token);
        await started().client.leaseClient.leaseRevoke({ ID: kv.lease });
      },
    },
    {
      name: "the leader's connection is black-holed",
      reason: "deadline-passed",
      inject: async (elector) => silence(elector),
    },
  ],
  silence,
}));

/**
 * Black-holes the elector's own connection while the others keep the server; heals it once
 * the elector stepped down, so that the suite can go on reading through it.
 */
async function silence(elector: Elector): Promise<void> {
  const proxy = proxies.get(elector);
  if (proxy === undefined) throw new Error("the elector has no proxy");
  proxy.blackhole();
  elector.once("lost", () => proxy.heal());
}
