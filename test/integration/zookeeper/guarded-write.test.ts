// Guarded writes on ZooKeeper: the leader's writes go in one multi with a check that its
// node still exists, so that a deposed leader's write is refused by the server itself.
import { isLeadershipLostError } from "@elector/core";
import {
  createZooKeeperElector,
  type ZooKeeperElector,
  ZooKeeperStaleLeaderError,
} from "@elector/zookeeper";
import { afterEach, describe, expect, it } from "vitest";
import { zooKeeperWithToolsForSuite } from "../../support/suite-servers.js";

const sessionTimeoutMs = 4000;
/** Each way: the notice of the node's delete reaches the leader only after its write left. */
const latencyMs = 300;

describe("guarded writes on ZooKeeper", () => {
  const started = zooKeeperWithToolsForSuite();
  const cleanups: (() => Promise<unknown>)[] = [];
  let elections = 0;
  const election = () => `guarded-${process.pid}-${Date.now().toString(36)}-${++elections}`;
  const electorOn = async (servers: string, id: string): Promise<ZooKeeperElector> => {
    const elector = await createZooKeeperElector({
      servers: [servers],
      sessionTimeoutMs,
      election: election(),
      id,
    });
    cleanups.push(() => elector.close());
    return elector;
  };
  const dataPath = (name: string) => `/guarded-data-${process.pid}-${name}`;
  const exists = async (path: string) =>
    (await started().inspector.client.exists(path)) !== undefined;

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });

  it("applies a leader's ops atomically with the check of its node, and returns their results", async () => {
    const leader = await electorOn(started().zookeeper.getConnectionString(), "leader");
    const leadership = await leader.campaign();
    const path = dataPath("applied");
    const results = await leader.guardedMulti(leadership, [
      { type: "create", path, data: Buffer.from("one") },
      { type: "setData", path, data: Buffer.from("two"), version: 0 },
    ]);
    expect(results.map((result) => result.type)).toEqual(["create", "setData"]);
    const read = await started().inspector.client.getData(path);
    expect(read.data.toString()).toBe("two");
    await started().inspector.client.delete(path);
  });

  it("has the server refuse a deposed leader's guarded write, whose notice of the loss is still on its way, and applies none of it", async () => {
    const proxy = await started().proxyHost.proxy(started().zookeeper.getConnectionString());
    cleanups.push(() => proxy.close());
    const leader = await electorOn(proxy.endpoint, "leader");
    const leadership = await leader.campaign();
    const [node] = await started().inspector.nodes(leader.electionPath);
    if (node === undefined) throw new Error("the leader has no node");
    const nodePath = `${leader.electionPath}/${node.name}`;

    await proxy.latency(latencyMs);
    // Deposed behind its back: the node goes, and the leader hears of it only after the
    // proxy's delay, while its write is already on its way to the server.
    await started().inspector.client.delete(nodePath);
    const path = dataPath("refused");
    const writing = leader.guardedMulti(leadership, [
      { type: "create", path, data: Buffer.from("late") },
    ]);
    await expect(writing).rejects.toBeInstanceOf(ZooKeeperStaleLeaderError);
    await expect(writing).rejects.toMatchObject({ path: nodePath, token: leadership.token });
    expect(await exists(path)).toBe(false);
    // The loss itself arrives too.
    await expect.poll(() => leadership.signal.aborted, { timeout: sessionTimeoutMs }).toBe(true);
    expect(leadership.signal.reason).toMatchObject({ code: "deleted" });
  });

  it("refuses a guarded write of a term that has ended here without sending it", async () => {
    const leader = await electorOn(started().zookeeper.getConnectionString(), "leader");
    const leadership = await leader.campaign();
    await leadership.resign();
    const path = dataPath("after-resign");
    const writing = leader.guardedMulti(leadership, [
      { type: "create", path, data: Buffer.from("late") },
    ]);
    await expect(writing).rejects.toSatisfy(isLeadershipLostError);
    await expect(writing).rejects.toMatchObject({ code: "resigned" });
    expect(await exists(path)).toBe(false);
  });

  it("refuses ops that are not an array of ZooKeeper ops, naming the option", async () => {
    const leader = await electorOn(started().zookeeper.getConnectionString(), "leader");
    const leadership = await leader.campaign();
    await expect(
      leader.guardedMulti(leadership, [{ type: "drop", path: "/x" }] as never),
    ).rejects.toMatchObject({ code: "invalid-option", option: "ops" });
    await leadership.resign();
  });
});
