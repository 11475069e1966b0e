import type { Elector } from "@elector/core";
import { type StartedZooKeeperContainer, ZooKeeperContainer } from "@elector/testing";
import { createZooKeeperElector, type ZooKeeperElector } from "@elector/zookeeper";
import { ProxyHost, type RemoteFaultProxy } from "../integration/zookeeper/proxy-host.js";
import { ZooKeeperInspector } from "../integration/zookeeper/zookeeper-faults.js";
import { printServerLogsOnFailure } from "../support/server-logs.js";
import { describeConformance } from "./suite.js";

// The container's 500 ms tick allows sessions from 1 s; 2 s keeps fault tests short while
// leaving the C client (which gives up on a silent server after 2/3 of it) room on a busy
// machine.
const sessionTimeoutMs = 2000;
let zookeeper: StartedZooKeeperContainer | undefined;
let inspector: ZooKeeperInspector | undefined;
let proxyHost: ProxyHost | undefined;
/**
 * Each candidate reaches ZooKeeper through a proxy of its own, so that one can be cut off.
 * The proxies run in a process of their own: see proxy-host.ts.
 */
const proxies = new Map<Elector, RemoteFaultProxy>();

const started = () => {
  if (zookeeper === undefined || inspector === undefined || proxyHost === undefined) {
    throw new Error("zookeeper not started");
  }
  return { zookeeper, inspector, proxyHost };
};

const proxyOf = (elector: Elector) => {
  const proxy = proxies.get(elector);
  if (proxy === undefined) throw new Error(`elector ${elector.id} has no proxy`);
  return proxy;
};

printServerLogsOnFailure(() => [zookeeper]);

describeConformance("zookeeper", {
  ttlMs: sessionTimeoutMs,
  observesEveryValue: false,
  async setup() {
    zookeeper = await new ZooKeeperContainer().start();
    inspector = await ZooKeeperInspector.open(zookeeper.getConnectionString());
    proxyHost = await ProxyHost.start();
  },
  async teardown() {
    await proxyHost?.[Symbol.asyncDispose]();
    await inspector?.[Symbol.asyncDispose]();
    await zookeeper?.stop();
  },
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
});
