import { BackendError } from "@elector/core";
import { type LeaderListener, raceSignal } from "@elector/core/backend";
import type { Connection } from "./connection.js";
import { isNoNode, ZooKeeperConnectionError } from "./errors.js";
import { candidatesAmong, decodeCandidate, readLine, tokenOf } from "./line.js";
import { type NodeGone, NodeWatch } from "./node-watch.js";
import { retrying } from "./retrying.js";
import { type NodeSnapshot, type Session, SessionEndedError } from "./session.js";

/**
 * Follows who leads an election for `observe()`: a data watch on the lowest node (its
 * deletion or a new value), and, only while the line is empty, a child watch on the election
 * node (or an exists-watch while that node does not exist). Candidates never use either of
 * the latter. It outlives sessions: after one ends it follows on the next.
 */
export class LeaderWatch {
  readonly #connection: Connection;
  readonly #electionPath: string;
  readonly #listener: LeaderListener;

  constructor(connection: Connection, electionPath: string, listener: LeaderListener) {
    this.#connection = connection;
    this.#electionPath = electionPath;
    this.#listener = listener;
  }

  /** Reports the leader and each change until `signal` aborts. */
  run(signal: AbortSignal): void {
    void this.#loop(signal);
  }

  async #loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const session = await this.#connection.acquire(signal);
        await this.#follow(session, signal);
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ZooKeeperConnectionError) continue;
        this.#listener.fail(error instanceof Error ? error : new Error(String(error)));
        return;
      }
    }
  }

  async #follow(session: Session, signal: AbortSignal): Promise<void> {
    for (;;) {
      const line = await retrying(session, signal, () => readLine(session, this.#electionPath));
      const lowest = line[0];
      if (lowest === undefined) {
        this.#listener.change(undefined);
        await this.#untilCandidates(session, signal);
        continue;
      }
      let settle: (why: NodeGone) => void = () => {};
      const gone = new Promise<NodeGone>((resolve) => {
        settle = resolve;
      });
      const path = `${this.#electionPath}/${lowest.name}`;
      const watch = new NodeWatch(session, path, {
        gone: (why) => settle(why),
        changed: (snapshot) => this.#report(snapshot, path),
      });
      try {
        const snapshot = await watch.start(signal);
        if (snapshot === undefined) continue;
        this.#report(snapshot, path);
        const why = await raceSignal(gone, signal);
        if (why === "session-ended") throw new SessionEndedError("expired", "the session ended");
        if (why === "failed") throw new BackendError(`could not watch the leader's node ${path}`);
      } finally {
        watch.stop();
      }
    }
  }

  #report(snapshot: NodeSnapshot, path: string): void {
    const data = decodeCandidate(snapshot.data);
    if (data === undefined) return;
    try {
      this.#listener.change({ ...data, token: tokenOf(snapshot.stat, path) });
    } catch (error) {
      this.#listener.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Waits for the line to change while it is empty. */
  async #untilCandidates(session: Session, signal: AbortSignal): Promise<void> {
    let wake: () => void = () => {};
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const children = session.watchChildren(this.#electionPath, () => wake());
    let exists: { cancel(): void } | undefined;
    try {
      try {
        if (candidatesAmong(await children.result).length > 0) return;
      } catch (error) {
        if (!isNoNode(error)) throw error;
        const read = session.watchExists(this.#electionPath, () => wake());
        exists = read;
        if ((await read.result) !== undefined) return;
      }
      await raceSignal(woken, signal);
    } finally {
      children.cancel();
      exists?.cancel();
    }
  }
}
