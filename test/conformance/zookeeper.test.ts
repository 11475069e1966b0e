import { type StartedZooKeeperContainer, ZooKeeperContainer } from "@elector/testing";
import { createZooKeeperElector, type ZooKeeperElector } from "@elector/zookeeper";
import { ZooKeeperInspector } from "../integration/zookeeper/zookeeper-faults.js";
import { describeConformance } from "./suite.js";

// The container's 500 ms tick allows sessions from 1 s; 2 s keeps fault tests short while
// leaving the C client (which gives up on a silent server after 2/3 of it) room on a busy
// machine.
const sessionTimeoutMs = 2000;
let zookeeper: StartedZooKeeperContainer | undefined;
let inspector: ZooKeeperInspector | undefined;

const started = () => {
  if (zookeeper === undefined || inspector === undefined) throw new Error("zookeeper not started");
  return { zookeeper, inspector };
};

describeConformance("zookeeper", {
  ttlMs: sessionTimeoutMs,
  async setup() {
    zookeeper = await new ZooKeeperContainer().start();
    inspector = await ZooKeeperInspector.open(zookeeper.getConnectionString());
  },
  async teardown() {
    await inspector?.[Symbol.asyncDispose]();
    await zookeeper?.stop();
  },
  create: (election, id) =>
    createZooKeeperElector({
      servers: [started().zookeeper.getConnectionString()],
      path: "/conformance",
      sessionTimeoutMs,
      election,
      id,
    }),
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
      inject: async (elector) => started().inspector.expireSession(elector),
    },
  ],
});
