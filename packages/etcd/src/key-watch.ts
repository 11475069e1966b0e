import type { Etcd3, IKeyValue, Watcher } from "etcd3";
import type { KeyRange } from "./keys.js";
import { guardWatches } from "./watch-guard.js";

/** What one {@link KeyWatch} reports. */
export interface KeyWatchListener {
  /** A change of the watched key or range, in revision order. */
  changed(type: "put" | "delete", kv: IKeyValue): void;
  /**
   * Every change of one answer was reported. etcd sends all the changes of one revision in
   * one answer, so the watched keys are now as they were at a revision.
   */
  settled?(): void;
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
   * the watch starts at the read's revision (see {@link KeyWatch.start}), in etcd's
   * "unsynced" group, which it catches up every 100 ms: a change may reach it up to 100 ms
   * late. Reading again and watching anew avoids that delay.
   */
  readonly inStep: boolean;
}

/**
 * Watches one key, or one range, from a given revision, over the client's shared watch
 * stream. It is one-shot: after an interruption it stays closed, so that the owner re-reads
 * instead of trusting the etcd3 client's resumption, which restarts from the revision in the
 * "created" answer and can skip changes made before it.
 *
 * A watch that etcd cancelled (its start revision was compacted away, most often) is not
 * cancelled again: etcd3 has forgotten it, and would throw on etcd's answer to that cancel
 * from the gRPC data handler, where nothing catches it. {@link guardWatches} drops such an
 * answer when the owner's close and etcd's cancel cross.
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
   * If the store moved on before the watch was created, etcd serves it from its catch-up
   * loop, and a compaction to exactly `readRevision + 1` meanwhile would drop that revision's
   * deletes unseen (etcd does not keep a compacted revision's tombstones, and cancels only a
   * watch that starts *below* the compaction). So such a watch is replaced by one from
   * `readRevision`: etcd then either replays that revision (changes the read already showed,
   * which the owner takes again harmlessly), or cancels the watch as compacted, and the owner
   * reads again.
   *
   * @throws the signal's reason if it aborts first, or the watch's error.
   */
  static async start(
    client: Etcd3,
    target: Buffer | KeyRange,
    readRevision: bigint,
    listener: KeyWatchListener,
    signal: AbortSignal,
  ): Promise<StartedKeyWatch> {
    signal.throwIfAborted();
    guardWatches(client);
    const first = await KeyWatch.#open(client, target, readRevision, true, listener, signal);
    if (first !== undefined) return { watch: first, inStep: true };
    const replaced = await KeyWatch.#open(client, target, readRevision, false, listener, signal);
    return { watch: replaced as KeyWatch, inStep: false };
  }

  /**
   * Starts watching `target` from now: etcd creates the watch in step with its store (its
   * "synced" group, whose changes it sends as they are applied), and the header revision H of
   * its created answer is the revision it starts after: every change of revision > H comes
   * on this watch. A read sent once this resolves is answered at a revision ≥ H.
   *
   * @throws the signal's reason if it aborts first, or the watch's error.
   */
  static fromNow(
    client: Etcd3,
    target: Buffer | KeyRange,
    listener: KeyWatchListener,
    signal: AbortSignal,
  ): Promise<{ readonly watch: KeyWatch; readonly revision: bigint }> {
    signal.throwIfAborted();
    guardWatches(client);
    let revision = 0n;
    return KeyWatch.#create(client, target, undefined, listener, signal, (created) => {
      revision = created;
      return true;
    }).then((watch) => ({ watch: watch as KeyWatch, revision }));
  }

  /**
   * Opens a watch from `readRevision + 1` (`afterRead`) or from `readRevision`.
   *
   * @returns the watch, or undefined if it began from `readRevision + 1` out of step with
   * the read (it is closed then, and reported nothing).
   */
  static #open(
    client: Etcd3,
    target: Buffer | KeyRange,
    readRevision: bigint,
    afterRead: boolean,
    listener: KeyWatchListener,
    signal: AbortSignal,
  ): Promise<KeyWatch | undefined> {
    signal.throwIfAborted();
    const startRevision = afterRead ? readRevision + 1n : readRevision;
    return KeyWatch.#create(
      client,
      target,
      startRevision,
      listener,
      signal,
      // Closed before any event of it can reach the listener (they come in later answers).
      (created) => !afterRead || created <= readRevision,
    );
  }

  /**
   * Creates a watch from `startRevision` (from now if undefined); `accept` judges the
   * revision of etcd's created answer.
   *
   * @returns the watch, or undefined if `accept` refused it (it is closed then, and reported
   * nothing).
   */
  static #create(
    client: Etcd3,
    target: Buffer | KeyRange,
    startRevision: bigint | undefined,
    listener: KeyWatchListener,
    signal: AbortSignal,
    accept: (createdRevision: bigint) => boolean,
  ): Promise<KeyWatch | undefined> {
    const builder = client.watch();
    if (Buffer.isBuffer(target)) builder.key(target);
    else builder.inRange({ start: target.key, end: target.rangeEnd });
    if (startRevision !== undefined) builder.startRevision(startRevision.toString());
    const watcher = builder.watcher();
    const watch = new KeyWatch(watcher);
    return new Promise<KeyWatch | undefined>((resolve, reject) => {
      let started = false;
      const fail = (error: Error, cancelled: boolean) => {
        signal.removeEventListener("abort", onAbort);
        if (watch.#closed) return;
        // etcd cancelled it and etcd3 forgot it: there is nothing left to cancel.
        if (cancelled) watch.#closed = true;
        else watch.close();
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
        if (watch.#closed) return;
        if (!accept(BigInt(response.header.revision))) {
          watch.close();
          resolve(undefined);
          return;
        }
        started = true;
        resolve(watch);
      });
      watcher.on("put", (kv: IKeyValue) => {
        if (!watch.#closed) listener.changed("put", kv);
      });
      watcher.on("delete", (kv: IKeyValue) => {
        if (!watch.#closed) listener.changed("delete", kv);
      });
      // After etcd3's own "data" listener, which emitted the answer's puts and deletes.
      watcher.on("data", () => {
        if (!watch.#closed) listener.settled?.();
      });
      // etcd3 keeps a disconnected watch and resumes it; this one-shot watch cancels it.
      watcher.on("disconnected", (error: Error) => fail(error, false));
      // etcd3 emits "error" only for a watch that etcd cancelled, after dropping it.
      watcher.on("error", (error: Error) => fail(error, true));
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
