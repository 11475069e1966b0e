// A plain session of the wire-protocol client, with no election code on top, for the floor
// and the naive recipe: nothing of @elector/zookeeper's election is in their path.
import type { ZooKeeperClient } from "../../packages/zookeeper/src/protocol/client.js";
import { createModes, eventTypes } from "../../packages/zookeeper/src/protocol/codes.js";
import type { CreateMode } from "../../packages/zookeeper/src/protocol/records.js";
import { openZooKeeperClient } from "../../test/support/zookeeper-client.js";

/** `(type, state, path)`, with ZooKeeper's event type numbers (2: deleted, 4: children). */
export type Watcher = (type: number, state: number, path: string) => void;

const eventType = {
  created: eventTypes.created,
  deleted: eventTypes.deleted,
  changed: eventTypes.changed,
  children: eventTypes.children,
  lost: eventTypes.none,
} as const;

const modeOf = new Map<number, CreateMode>(
  Object.entries(createModes).map(([mode, flags]) => [flags, mode as CreateMode]),
);

/** A connected raw session. */
export class RawSession {
  private constructor(readonly client: ZooKeeperClient) {}

  static async open(connect: string, sessionTimeoutMs: number): Promise<RawSession> {
    return new RawSession(
      await openZooKeeperClient(connect, { sessionTimeoutMs, connectTimeoutMs: 30_000 }),
    );
  }

  create(path: string, data: string, flags: number): Promise<string> {
    return this.client.create(path, Buffer.from(data), modeOf.get(flags) ?? "persistent");
  }

  delete(path: string): Promise<void> {
    return this.client.delete(path, -1);
  }

  /** A data watch on `path`; resolves once set (rejects with "no node" if there is none). */
  async watchData(path: string, watcher: Watcher): Promise<void> {
    await this.client.getData(path, (event, at) => watcher(eventType[event], 3, at));
  }

  /** Lists the children and sets a child watch. */
  async watchChildren(path: string, watcher: Watcher): Promise<string[]> {
    const { children } = await this.client.getChildren(path, (event, at) =>
      watcher(eventType[event], 3, at),
    );
    return children;
  }

  async ensure(path: string): Promise<void> {
    let current = "";
    for (const part of path.split("/").slice(1)) {
      current += `/${part}`;
      await this.create(current, "", createModes.persistent).catch((error: Error) => {
        if (!error.message.includes("-110")) throw error;
      });
    }
  }

  close(): void {
    void this.client.close();
  }
}

export const ephemeralSequential = createModes.ephemeralSequential;
export const ephemeral = createModes.ephemeral;
