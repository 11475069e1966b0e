// Faults and inspections of a ZooKeeper elector from outside: another session that deletes
// its node, a twin session that closes its session on the server, and a look at its line.
import type { Elector } from "@elector/core";
import type { ZooKeeperElector } from "@elector/zookeeper";
import type { ZooKeeperClient } from "../../../packages/zookeeper/src/protocol/client.js";
import { codeOf } from "../../../packages/zookeeper/src/protocol/client.js";
import { codes } from "../../../packages/zookeeper/src/protocol/codes.js";
import { driverOf } from "../../../packages/zookeeper/src/zookeeper-elector.js";
import { openZooKeeperClient } from "../../support/zookeeper-client.js";

/** What can cut an elector off from the server for a moment: its FaultProxy. */
export interface ElectorLink {
  blackhole(): Promise<void> | void;
  heal(): Promise<void> | void;
}

/** A candidate node as another session sees it. */
export interface InspectedNode {
  readonly name: string;
  readonly id: string;
  readonly value: string;
  readonly ephemeralOwner: string;
  readonly czxid: number;
}

/** A plain client of its own, to look at and tamper with an election from outside. */
export class ZooKeeperInspector implements AsyncDisposable {
  private constructor(
    readonly client: ZooKeeperClient,
    private readonly connect: string,
  ) {}

  static async open(connect: string, sessionTimeoutMs = 10_000): Promise<ZooKeeperInspector> {
    const client = await openZooKeeperClient(connect, {
      sessionTimeoutMs,
      connectTimeoutMs: 30_000,
    });
    return new ZooKeeperInspector(client, connect);
  }

  /** The candidate nodes under `electionPath`, lowest sequence first. */
  async nodes(electionPath: string): Promise<InspectedNode[]> {
    let names: string[];
    try {
      names = (await this.client.getChildren(electionPath)).children;
    } catch (error) {
      if (codeOf(error) === codes.noNode) return [];
      throw error;
    }
    const sequence = (name: string) => Number(name.slice(name.lastIndexOf("-n_") + 3));
    const nodes: InspectedNode[] = [];
    for (const name of names.sort((a, b) => sequence(a) - sequence(b))) {
      try {
        const { stat, data } = await this.client.getData(`${electionPath}/${name}`);
        // Without the "elected" mark, which a leader adds once elected.
        const { id, value } = JSON.parse(data.toString("utf8")) as { id: string; value: string };
        nodes.push({
          name,
          id,
          value,
          ephemeralOwner: stat.ephemeralOwner.toString(16),
          czxid: Number(stat.czxid),
        });
      } catch (error) {
        if (codeOf(error) !== codes.noNode) throw error;
      }
    }
    return nodes;
  }

  /** Deletes the node of candidate `id` from this (another) session. */
  async deleteNodeOf(electionPath: string, id: string): Promise<void> {
    const node = (await this.nodes(electionPath)).find((candidate) => candidate.id === id);
    if (node === undefined) throw new Error(`no node of ${id} under ${electionPath}`);
    await this.client.delete(`${electionPath}/${node.name}`, -1);
  }

  /**
   * Ends `elector`'s session on the server, as Curator's KillSession does: a twin client
   * joins the session with its id and password, then closes it. The elector's own client
   * would win the session back as soon as the server moved it to the twin, so its link is
   * black-holed meanwhile and healed afterwards: the elector then hears from the server that
   * its session expired.
   */
  async expireSession(elector: Elector, link: ElectorLink, attempts = 5): Promise<void> {
    const zk = elector as ZooKeeperElector;
    const session = driverOf(zk)?.session;
    const id = session?.id;
    const password = session?.password;
    if (id === undefined || password === undefined) {
      throw new Error(`elector ${elector.id} has no session to expire`);
    }
    await link.blackhole();
    try {
      for (let attempt = 0; attempt < attempts; attempt++) {
        if (await this.closeTwin(id, password, session?.timeoutMs ?? 10_000)) return;
        const gone = !(await this.nodes(zk.electionPath)).some(
          (node) => node.ephemeralOwner === id,
        );
        if (gone) return;
      }
      throw new Error(`session ${id} of ${elector.id} outlived ${attempts} kill attempts`);
    } finally {
      await link.heal();
    }
  }

  /** Joins session `id` and closes it; true if the server said it was already over. */
  private async closeTwin(id: string, password: string, timeoutMs: number): Promise<boolean> {
    try {
      const twin = await openZooKeeperClient(this.connect, {
        sessionTimeoutMs: timeoutMs,
        connectTimeoutMs: timeoutMs,
        session: { id: BigInt(`0x${id}`), password: Buffer.from(password, "hex") },
      });
      await twin.close();
      return false;
    } catch (error) {
      if (String(error).includes("(expired)")) return true;
      throw error;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.client.close();
  }
}
