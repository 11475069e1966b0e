import type { Elector } from "@elector/core";
import { createEtcdElector, type EtcdElector } from "@elector/etcd";
import { EtcdContainer, FaultProxy, type StartedEtcdContainer } from "@elector/testing";
import type { Etcd3 } from "etcd3";
import { openEtcdClient } from "../support/etcd-client.js";
import { printServerLogsOnFailure } from "../support/server-logs.js";
import { describeConformance } from "./suite.js";

const ttlSeconds = 2;
let etcd: StartedEtcdContainer | undefined;
let admin: Etcd3 | undefined;
/** Each candidate reaches etcd through a proxy of its own, so that one can be cut off. */
const proxies = new Map<Elector, FaultProxy>();

function started(): { etcd: StartedEtcdContainer; admin: Etcd3 } {
  if (etcd === undefined || admin === undefined) throw new Error("etcd did not start");
  return { etcd, admin };
}

/** The leader's candidate key, read by another client. */
async function leaderKey(elector: Elector, token: bigint) {
  const name = (elector as EtcdElector).electionKey;
  const { kvs } = await started().admin.getAll().prefix(`${name}/`).exec();
  const kv = kvs.find((candidate) => candidate.create_revision === token.toString());
  if (kv === undefined) throw new Error(`no candidate key with create revision ${token}`);
  return kv;
}

printServerLogsOnFailure(() => [etcd]);

describeConformance("etcd", {
  ttlMs: ttlSeconds * 1000,
  async setup() {
    etcd = await new EtcdContainer().start();
    admin = openEtcdClient(etcd.getClientEndpoints(), etcd.electionTimeoutMs);
  },
  async teardown() {
    await Promise.all([...proxies.values()].map((proxy) => proxy.close()));
    admin?.close();
    await etcd?.remove();
  },
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
        const kv = await leaderKey(elector, leadership.token);
        await started().admin.delete().key(kv.key).exec();
      },
    },
    {
      // The own key's delete ends the term at once, before a successor can be elected; that
      // the lease went too follows in the cause (CandidateKeyLostError.leaseGone).
      name: "another client revokes the leader's lease",
      reason: "deleted",
      async inject(elector, leadership) {
        const kv = await leaderKey(elector, leadership.token);
        await started().admin.leaseClient.leaseRevoke({ ID: kv.lease });
      },
    },
    {
      name: "the leader's connection is black-holed",
      reason: "deadline-passed",
      inject: async (elector) => silence(elector),
    },
  ],
  silence,
});

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
