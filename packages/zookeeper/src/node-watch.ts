import { linkSignals } from "@elector/core/backend";
import { ZooKeeperConnectionError } from "./errors.js";
import type { NodeSnapshot, Session, WatchEvent } from "./session.js";
import { SessionEndedError } from "./session.js";

/** Why a {@link NodeWatch} stopped on its own. */
export type NodeGone = "deleted" | "session-ended" | "failed";

/** What a {@link NodeWatch} reports. */
export interface NodeWatchHandlers {
  /** The node is gone, its session ended, or it could not be read again; called once. */
  gone(why: NodeGone): void;
  /** The node's data changed (or may have: after a reconnect it is read again). */
  changed?(snapshot: NodeSnapshot): void;
}

/**
 * Watches one node with a data watch until it is deleted: a candidate's predecessor, its own
 * node, or the leader's node for observers. One-shot watches are re-armed after a change and
 * after the handle that held them was replaced; a re-read that finds no node counts as a
 * deletion.
 */
export class NodeWatch {
  readonly #session: Session;
  readonly #path: string;
  readonly #handlers: NodeWatchHandlers;
  readonly #stopped = new AbortController();
  #cancel: (() => void) | undefined;
  #done = false;

  constructor(session: Session, path: string, handlers: NodeWatchHandlers) {
    this.#session = session;
    this.#path = path;
    this.#handlers = handlers;
  }

  /**
   * Reads the node and sets the watch, retrying across reconnects.
   *
   * @returns the node, or undefined when it does not exist (then nothing is watched and
   * `gone` is not called).
   * @throws the signal's reason, or SessionEndedError.
   */
  async start(signal: AbortSignal): Promise<NodeSnapshot | undefined> {
    // Linked by hand: AbortSignal.any grows on a long-lived signal (an observer's) on Node 20.
    const link = linkSignals(signal, this.#stopped.signal);
    try {
      const snapshot = await this.#read(link.signal);
      if (snapshot === undefined) this.stop();
      return snapshot;
    } finally {
      link.dispose();
    }
  }

  /** Stops reporting; the server-side watch stays until it fires. */
  stop(): void {
    this.#done = true;
    this.#cancel?.();
    this.#stopped.abort();
  }

  async #read(signal: AbortSignal): Promise<NodeSnapshot | undefined> {
    for (;;) {
      signal.throwIfAborted();
      const read = this.#session.watchData(this.#path, (event) => this.#onEvent(event));
      this.#cancel = read.cancel;
      try {
        return await read.result;
      } catch (error) {
        if (error instanceof SessionEndedError || !(error instanceof ZooKeeperConnectionError)) {
          throw error;
        }
        await this.#session.ready(signal);
      }
    }
  }

  #onEvent(event: WatchEvent): void {
    if (this.#done) return;
    if (event === "deleted") {
      this.#finish("deleted");
      return;
    }
    this.#read(this.#stopped.signal).then(
      (snapshot) => {
        if (this.#done) return;
        if (snapshot === undefined) this.#finish("deleted");
        else this.#handlers.changed?.(snapshot);
      },
      (error: unknown) => {
        if (this.#done) return;
        this.#finish(error instanceof SessionEndedError ? "session-ended" : "failed");
      },
    );
  }

  #finish(why: NodeGone): void {
    if (this.#done) return;
    this.stop();
    this.#handlers.gone(why);
  }
}
