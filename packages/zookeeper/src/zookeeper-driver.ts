import { BackendError, type LeaderInfo, type Participant } from "@elector/core";
import {
  type CampaignRequest,
  type DriverContext,
  type ElectedTerm,
  type ElectionDriver,
  type LeaderListener,
  type ResolvedZooKeeperConfig,
  raceSignal,
  type TermControl,
} from "@elector/core/backend";
import { CandidateNode } from "./candidate-node.js";
import { Connection } from "./connection.js";
import { ZooKeeperStaleLeaderError } from "./errors.js";
import { LeaderWatch } from "./leader-watch.js";
import { decodeCandidate, isMarkedElected, type LineEntry, readLine, tokenOf } from "./line.js";
import { type NodeGone, NodeWatch } from "./node-watch.js";
import { MultiError } from "./protocol/client.js";
import type { Op, OpResult } from "./protocol/records.js";
import { retrying } from "./retrying.js";
import { type Session, SessionEndedError } from "./session.js";
import { SessionWatch } from "./session-watch.js";

/**
 * The ZooKeeper backend's driver: one candidate on one session at a time.
 *
 * @remarks
 * The recipe: each campaign creates `<path>/<election>/<guid>-n_<seq>` (ephemeral,
 * sequential); the lowest sequence leads once it has checked that its node belongs to the
 * current session; every other candidate sets a data watch on its immediate predecessor only
 * and, when that goes, leads if a listing showed the predecessor at the head, or lists the
 * line again. A new leader marks its node (one write), which tells the candidate behind it to
 * list the line while the leader still stands, so that the handoff needs no listing. There is
 * no child watch on the election node, so one departure wakes one candidate.
 */
export class ZooKeeperDriver implements ElectionDriver {
  readonly backend = "zookeeper";
  readonly #config: ResolvedZooKeeperConfig;
  readonly #context: DriverContext;
  readonly #connection: Connection;
  readonly #electionPath: string;
  /** The node and session of the term under way, by token: what a guarded write checks. */
  readonly #leading = new Map<bigint, { readonly session: Session; readonly path: string }>();

  constructor(config: ResolvedZooKeeperConfig, context: DriverContext) {
    this.#config = config;
    this.#context = context;
    this.#electionPath = `${config.path}/${context.election}`;
    this.#connection = new Connection({
      servers: config.servers,
      sessionTimeoutMs: config.sessionTimeoutMs,
      safetyMarginMs: config.safetyMarginMs,
      logger: context.logger,
    });
  }

  /** The session in use, if any. */
  get session(): Session | undefined {
    return this.#connection.current;
  }

  /** The znode under which this election's candidates live. */
  get electionPath(): string {
    return this.#electionPath;
  }

  async campaign(request: CampaignRequest): Promise<ElectedTerm> {
    const { signal, term } = request;
    signal.throwIfAborted();
    const session = await this.#connection.acquire(signal, this.#config.sessionTimeoutMs);
    const watch = new SessionWatch(session, term);
    const node = new CandidateNode(session, this.#electionPath, this.#config.path, {
      id: this.#context.id,
      value: request.value,
    });
    const onGone = (why: NodeGone) => {
      if (why === "deleted") {
        void this.#nodeDeleted(session, term, watch);
      } else if (why === "failed") {
        term.lose("connection-lost", "the candidate's node could no longer be watched");
      }
      // "session-ended": the session watch reports the end of the session itself.
    };
    // The first listing goes out with the read of the new node: a fresh waiter is in line one
    // round trip sooner. Nothing is decided on it before the node is read and watched.
    let listed: Promise<LineEntry[] | undefined> | undefined;
    try {
      await node.join(signal, onGone, () => {
        listed = readLine(session, this.#electionPath).catch(() => undefined);
      });
      this.#context.logger.debug({ node: node.path, token: node.token.toString() }, "joined");
      await this.#waitToLead(session, node, signal, term, listed);
    } catch (error) {
      watch.stop();
      await node.delete().catch(() => {
        // Kept as an orphan: the session deletes it once it answers again, or takes it along.
      });
      throw signal.aborted ? signal.reason : error;
    }
    // After "elected" is told, not before: the write only speeds up the next handoff.
    setImmediate(() => {
      if (!term.signal.aborted) node.markElected();
    });
    const token = node.token;
    const stop = () => {
      this.#leading.delete(token);
      watch.stop();
      node.stopWatching();
    };
    this.#leading.set(token, { session, path: node.path });
    if (term.signal.aborted) stop();
    else term.signal.addEventListener("abort", stop, { once: true });
    return {
      token: node.token,
      proclaim: async (value, proclaimSignal) => {
        const set = await raceSignal(node.setData({ id: this.#context.id, value }), proclaimSignal);
        if (!set) {
          term.lose("deleted", "the leader's node was deleted by someone else");
          throw term.signal.reason;
        }
      },
      release: (releaseSignal) => {
        stop();
        return raceSignal(node.delete(), releaseSignal);
      },
    };
  }

  /**
   * Applies `ops` in one multi after a check that the node of the term with `token` still
   * exists: all of them while the term holds on the server, none once its node is gone.
   *
   * @returns undefined if no term with that token is under way here (it ended).
   * @throws ZooKeeperStaleLeaderError if the server found the node gone; nothing applied.
   */
  async guardedMulti(
    token: bigint,
    ops: readonly Op[],
    signal: AbortSignal,
  ): Promise<OpResult[] | undefined> {
    const leading = this.#leading.get(token);
    if (leading === undefined) return undefined;
    try {
      const results = await raceSignal(
        leading.session.multi([{ type: "check", path: leading.path, version: -1 }, ...ops]),
        signal,
      );
      return results.slice(1);
    } catch (error) {
      if (error instanceof MultiError && error.index === 0) {
        throw new ZooKeeperStaleLeaderError(leading.path, token, { cause: error });
      }
      throw error;
    }
  }

  /**
   * Our node is gone: authority ends now, and the reason follows. The server deletes a
   * session's ephemeral nodes, and tells their watchers, before it drops the session's
   * connection; so a deletion is someone else's only if the session still answers after it.
   */
  async #nodeDeleted(
    session: Session,
    term: CampaignRequest["term"],
    watch: SessionWatch,
  ): Promise<void> {
    // Held, not merely suspended: a reconnect before the sync answers must not resume a term
    // whose node is gone.
    watch.hold("the candidate's node was deleted");
    try {
      await retrying(session, term.signal, () => session.sync("/"));
      term.lose("deleted", "the candidate's node was deleted by another session");
    } catch (error) {
      // The session ended (the session watch tells that loss first) or the term ended; any
      // other failure must still end the term, which the first reason wins.
      term.lose(
        session.ended ? "session-expired" : "deleted",
        "the candidate's node was deleted",
        error,
      );
    }
  }

  /**
   * Waits until `node` is the lowest of the line, watching only its predecessor.
   *
   * The line ahead of a node only shrinks: a later create gets a greater sequence, and a
   * deleted node does not come back. So once a listing shows our predecessor at the head, its
   * deletion alone makes us the lowest (docs/safety.md). A listing made when we joined shows
   * that only at the head of the line; the predecessor's mark (see CandidateNode.markElected)
   * has us list again while it leads, so that its deletion finds us with that proof in hand.
   */
  async #waitToLead(
    session: Session,
    node: CandidateNode,
    signal: AbortSignal,
    term: TermControl,
    listed: Promise<LineEntry[] | undefined> | undefined,
  ): Promise<void> {
    const list = () => readLine(session, this.#electionPath);
    let line =
      (listed === undefined ? undefined : await raceSignal(listed, signal)) ??
      (await retrying(session, signal, list));
    for (;;) {
      const index = line.findIndex((entry) => entry.name === node.name);
      this.#context.logger.debug({ position: index, of: line.length }, "listed the line");
      if (index === -1) {
        // Our node is gone; the own-node watch reports it (and aborts the signal) soon.
        signal.throwIfAborted();
        throw new BackendError(`the candidate node ${JSON.stringify(node.path)} is not in line`);
      }
      // The node's owner was checked against this session when it was created, and an
      // ephemeral node never changes owner.
      if (index === 0) return this.#stillOurs(session, node, signal);
      const predecessor = line[index - 1] as LineEntry;
      let confirming: Promise<LineEntry[] | undefined> | undefined;
      const watchedOn = await this.#predecessorGone(session, predecessor, signal, () => {
        // At index 1 the listing in hand already shows the predecessor at the head. Not
        // retried: without it, the listing after the deletion decides.
        if (index > 1) confirming ??= list().catch(() => undefined);
      });
      term.predecessorGone();
      // On one connection, a deletion of our own node before the predecessor's is heard
      // first, and refused by #stillOurs; across a reconnect the order is not kept, and a
      // listing shows whether our node is still there.
      if (session.connections === watchedOn) {
        if (index === 1) return this.#stillOurs(session, node, signal);
        const confirmed =
          confirming === undefined ? undefined : await raceSignal(confirming, signal);
        if (confirmed !== undefined && headBefore(confirmed, node.name, predecessor.name)) {
          this.#context.logger.debug({ predecessor: predecessor.name }, "the predecessor led");
          return this.#stillOurs(session, node, signal);
        }
      }
      line = await retrying(session, signal, list);
    }
  }

  /** Refuses to lead on a node that its watch saw go, or on a session that ended. */
  #stillOurs(session: Session, node: CandidateNode, signal: AbortSignal): void {
    signal.throwIfAborted();
    if (session.ended) throw new SessionEndedError("expired", "the session ended");
    if (node.gone)
      throw new BackendError(`the candidate node ${JSON.stringify(node.path)} is gone`);
  }

  /**
   * Resolves once the predecessor is deleted (or found gone), with the session's connection
   * count when its watch was set. Calls `marked` when its data says it was elected.
   */
  async #predecessorGone(
    session: Session,
    predecessor: LineEntry,
    signal: AbortSignal,
    marked: () => void,
  ): Promise<number> {
    let settle: (why: NodeGone) => void = () => {};
    const gone = new Promise<NodeGone>((resolve) => {
      settle = resolve;
    });
    const watch = new NodeWatch(session, `${this.#electionPath}/${predecessor.name}`, {
      gone: (why) => settle(why),
      changed: (snapshot) => {
        if (isMarkedElected(snapshot.data)) marked();
      },
    });
    try {
      const snapshot = await watch.start(signal);
      const watchedOn = session.connections;
      if (snapshot === undefined) return watchedOn;
      if (isMarkedElected(snapshot.data)) marked();
      this.#context.logger.debug({ predecessor: predecessor.name }, "waiting for the predecessor");
      const why = await raceSignal(gone, signal);
      if (why === "session-ended") throw new SessionEndedError("expired", "the session ended");
      if (why === "failed") {
        throw new BackendError(`could not watch the predecessor ${predecessor.name} any longer`);
      }
      return watchedOn;
    } finally {
      watch.stop();
    }
  }

  async participants(signal: AbortSignal): Promise<Participant[]> {
    const session = await this.#connection.acquire(signal, this.#config.sessionTimeoutMs);
    const line = await readLine(session, this.#electionPath);
    const read = await Promise.all(
      line.map(async (entry) => {
        const path = `${this.#electionPath}/${entry.name}`;
        const snapshot = await session.get(path);
        const data = snapshot === undefined ? undefined : decodeCandidate(snapshot.data);
        if (snapshot === undefined || data === undefined) return undefined;
        return { ...data, token: tokenOf(snapshot.stat, path) };
      }),
    );
    return read
      .filter((info) => info !== undefined)
      .map((info, index) => ({ ...info, leader: index === 0 }));
  }

  async leader(signal: AbortSignal): Promise<LeaderInfo | undefined> {
    const session = await this.#connection.acquire(signal, this.#config.sessionTimeoutMs);
    // New nodes only join at the end: the first node that still exists leads.
    for (const entry of await readLine(session, this.#electionPath)) {
      const path = `${this.#electionPath}/${entry.name}`;
      const snapshot = await session.get(path);
      const data = snapshot === undefined ? undefined : decodeCandidate(snapshot.data);
      if (snapshot !== undefined && data !== undefined) {
        return { ...data, token: tokenOf(snapshot.stat, path) };
      }
    }
    return undefined;
  }

  watchLeader(listener: LeaderListener, signal: AbortSignal): void {
    new LeaderWatch(this.#connection, this.#electionPath, listener).run(signal);
  }

  async close(): Promise<void> {
    this.#connection.close();
  }
}

/**
 * Whether `line`, listed while `own` stood behind `predecessor`, makes `own` the lowest once
 * `predecessor` is gone: `own` was already the lowest, or only `predecessor` was below it.
 */
function headBefore(line: readonly LineEntry[], own: string, predecessor: string): boolean {
  const index = line.findIndex((entry) => entry.name === own);
  return index === 0 || (index === 1 && line[0]?.name === predecessor);
}
