import type { Elector } from "@elector/core";
import { createZooKeeperElector, type ZooKeeperElector } from "@elector/zookeeper";
import type { RemoteFaultProxy } from "../integration/zookeeper/proxy-host.js";
import { zooKeeperWithTools } from "../support/suite-servers.js";
import { describeConformance } from "./suite.js";

// The container's 500 ms tick allows sessions from 1 s; 2 s keeps fault tests short while
// leaving the C client (which gives up on a silent server after 2/3 of it) room on a busy
// machine.
const sessionTimeoutMs = 2000;
/**
 * Each candidate reaches ZooKeeper through a proxy of its own, so that one can be cut off.
 * The proxies run in a process of their own: see proxy-host.ts.
 */
const proxies = new Map<Elector, RemoteFaultProxy>();

const proxyOf = (elector: Elector) => {
  const proxy = proxies.get(elector);
  if (proxy === undefined) throw new Error(`elector ${elector.id} has no proxy`);
  return proxy;
};

describeConformance("zookeeper", zooKeeperWithTools, (started) => ({
  ttlMs: sessionTimeoutMs,
  observesEveryValue: false,
  async create(election, id) {
    const proxy = await started().proxyHost.proxy(started().zookeeper.getConnectionString());
    const elector = await createZooKeeperElector({
      servers: [proxy.endpoint],
      path: "/conformance",
      sessionTimeoutMs,
      election,
      id,
    });
    proxies.set(elector, proxy);
    return elector;
  },
  faults: [
    {
      name: "another session deletes the leader's node",
      reason: "deleted",
      inject: async (elector) =>
        started().inspector.deleteNodeOf((elector as ZooKeeperElector).electionPath, elector.id),
    },
    {
      name: "the server ends the leader's session",
      reason: "session-expired",
      inject: async (elector) => started().inspector.expireSession(elector, proxyOf(elector)),
    },
    {
      name: "the leader's connection is black-holed",
      reason: "connection-lost",
      async inject(elector, leadership) {
        const proxy = proxyOf(elector);
        await proxy.blackhole();
        // Heal once the leader stepped down, so that the suite can read the line through it.
        leadership.signal.addEventListener("abort", () => void proxy.heal(), { once: true });
      },
    },
  ],
  async silence(elector) {
    await proxyOf(elector).blackhole();
  },
}));
