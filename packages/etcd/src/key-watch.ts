import type { Etcd3, IKeyValue, Watcher } from "etcd3";
import type { KeyRange } from "./keys.js";

/** What one {@link KeyWatch} reports. */
export interface KeyWatchListener {
  /** A change of the watched key or range, in revision order. */
  changed(type: "put" | "delete", kv: IKeyValue): void;
  /**
   * Changes may have been missed: the watch stream broke, or etcd cancelled the watch. The
   * watch is closed; read again and start a new one from that read's revision.
   */
  interrupted(error: Error): void;
}

/** A started {@link KeyWatch} and whether it began in step with the read it follows. */
export interface StartedKeyWatch {
  readonly watch: KeyWatch;
  /**
   * Whether the store was still at the read's revision when the watch was created. If not,
   * etcd put the watch in its "unsynced" group, which it catches up every 100 ms: a change
   * may reach it up to 100 ms late. Reading again and watching anew avoids that delay.
   */
  readonly inStep: boolean;
}

/**
 * Watches one key, or one range, from a given revision, over the client's shared watch
 * stream. It is one-shot: after an interruption it stays closed, so that the owner re-reads
 * instead of trusting the etcd3 client's resumption, which restarts from the revision in the
 * "created" answer and can skip changes made before it.
 */
export class KeyWatch {
  readonly #watcher: Watcher;
  #closed = false;

  private constructor(watcher: Watcher) {
    this.#watcher = watcher;
  }

  /**
   * Starts watching `target` from `readRevision + 1`, so that no change after the read is
   * missed and, if none happened, etcd streams changes at once instead of catching up.
   *
   * @throws the signal's reason if it aborts first, or the watch's error.
   */
  static start(
    client: Etcd3,
    target: Buffer | KeyRange,
    readRevision: bigint,
    listener: KeyWatchListener,
    signal: AbortSignal,
  ): Promise<StartedKeyWatch> {
    signal.throwIfAborted();
    const builder = client.watch();
    if (Buffer.isBuffer(target)) builder.key(target);
    else builder.inRange({ start: target.key, end: target.rangeEnd });
    const watcher = builder.startRevision((readRevision + 1n).toString()).watcher();
    const watch = new KeyWatch(watcher);
    return new Promise<StartedKeyWatch>((resolve, reject) => {
      let started = false;
      const fail = (error: Error) => {
        signal.removeEventListener("abort", onAbort);
        if (watch.#closed) return;
        watch.close();
        if (started) listener.interrupted(error);
        else reject(error);
      };
      const onAbort = () => {
        watch.close();
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      watcher.once("connected", (response: { header: { revision: string } }) => {
        signal.removeEventListener("abort", onAbort);
        started = true;
        resolve({ watch, inStep: BigInt(response.header.revision) <= readRevision });
      });
      watcher.on("put", (kv: IKeyValue) => {
        if (!watch.#closed) listener.changed("put", kv);
      });
      watcher.on("delete", (kv: IKeyValue) => {
        if (!watch.#closed) listener.changed("delete", kv);
      });
      watcher.on("disconnected", (error: Error) => fail(error));
      watcher.on("error", (error: Error) => fail(error));
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stops the watch. Never waits: a cancel on a dead stream would never be answered. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watcher.cancel().catch(() => {});
  }
}
