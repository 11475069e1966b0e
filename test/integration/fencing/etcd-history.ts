import type { Etcd3 } from "etcd3";

/**
 * Every value put under `prefix`, per key, read from etcd's own event stream: one watch,
 * started before the writes so that it is in sync (a watch that starts at a past revision
 * waits for etcd's catch-up loop, about 100 ms).
 */
export class EtcdPutHistory {
  readonly #client: Etcd3;
  readonly #puts = new Map<string, { value: string; modRevision: string }[]>();
  readonly #listeners = new Set<() => void>();
  #cancel: () => Promise<void> = async () => {};

  private constructor(client: Etcd3) {
    this.#client = client;
  }

  static async start(client: Etcd3, prefix: string): Promise<EtcdPutHistory> {
    const history = new EtcdPutHistory(client);
    const watcher = await client.watch().prefix(prefix).create();
    watcher.on("put", (kv) => {
      const key = kv.key.toString();
      history.#puts.set(key, [
        ...(history.#puts.get(key) ?? []),
        { value: kv.value.toString(), modRevision: kv.mod_revision },
      ]);
      for (const listener of [...history.#listeners]) listener();
    });
    history.#cancel = () => watcher.cancel();
    return history;
  }

  /** The values put at `key`, in order, once the watch has seen the key's current revision. */
  async of(key: string, timeoutMs = 5_000): Promise<string[]> {
    const now = (await this.#client.get(key).exec()).kvs[0];
    if (now === undefined) return [];
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.#puts.get(key)?.at(-1)?.modRevision !== now.mod_revision) return;
        clearTimeout(timer);
        this.#listeners.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(check);
        reject(
          new Error(
            `the watch did not reach revision ${now.mod_revision} of ${key} in ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.#listeners.add(check);
      check();
    });
    return (this.#puts.get(key) ?? []).map((put) => put.value);
  }

  stop(): Promise<void> {
    return this.#cancel();
  }
}
