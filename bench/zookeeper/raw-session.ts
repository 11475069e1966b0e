// A plain session of the zookeeper binding, promisified by hand, for the floor and the naive
// recipe: nothing of @elector/zookeeper is in their path. (The binding's own typings give the
// callbacks' message as a number; it is a string, hence the casts.)
import ZooKeeper from "zookeeper";

export type Watcher = (type: number, state: number, path: string) => void;

/** A connected raw session. */
export class RawSession {
  private constructor(readonly client: ZooKeeper) {}

  static async open(connect: string, sessionTimeoutMs: number): Promise<RawSession> {
    const client = new ZooKeeper({ connect, timeout: sessionTimeoutMs, debug_level: 0 });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no session from ${connect}`)), 30_000);
      client.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      client.init({});
    });
    return new RawSession(client);
  }

  create(path: string, data: string, flags: number): Promise<string> {
    return this.call<string>((done) => this.client.a_create(path, data, flags, done as never));
  }

  delete(path: string): Promise<void> {
    return this.call<void>((done) => this.client.a_delete_(path, -1, done as never));
  }

  /** A data watch on `path`; resolves once set (rejects with "-101" if there is no node). */
  watchData(path: string, watcher: Watcher): Promise<void> {
    return this.call<void>((done) => this.client.aw_get(path, watcher, done as never));
  }

  /** Lists the children and sets a child watch. */
  watchChildren(path: string, watcher: Watcher): Promise<string[]> {
    return this.call<string[]>((done) => this.client.aw_get_children(path, watcher, done as never));
  }

  async ensure(path: string): Promise<void> {
    let current = "";
    for (const part of path.split("/").slice(1)) {
      current += `/${part}`;
      await this.create(current, "", ZooKeeper.constants.ZOO_PERSISTENT).catch((error: Error) => {
        if (!error.message.startsWith("-110")) throw error;
      });
    }
  }

  close(): void {
    this.client.close();
  }

  private call<T>(issue: (done: (rc: number, message: string, result: T) => void) => unknown) {
    return new Promise<T>((resolve, reject) => {
      issue((rc, message, result) => {
        if (rc === 0) resolve(result);
        else reject(new Error(`${rc} ${message}`));
      });
    });
  }
}

export const ephemeralSequential = ZooKeeper.constants.ZOO_EPHEMERAL_SEQUENTIAL;
export const ephemeral = ZooKeeper.constants.ZOO_EPHEMERAL;
