import { ConnectionError, type Logger } from "@elector/core";
import { isNodeExists, isNoNode, ZooKeeperConnectionError } from "./errors.js";
import { Heartbeat } from "./heartbeat.js";
import type {
  Answer,
  ChildrenResult,
  ConnectedInfo,
  DataResult,
  EndedState,
  WatchedEventType,
  Watcher,
  ZooKeeperClientListener,
  ZooKeeperClientOptions,
} from "./protocol/client.js";
import { codes } from "./protocol/codes.js";
import type { CreateMode, Op, OpResult, Stat } from "./protocol/records.js";

/**
 * - `connecting`: the first connection of the session is being made.
 * - `connected`: requests flow.
 * - `disconnected`: the connection dropped; the client is reconnecting within the session.
 * - `expired`, `closed`: the session is over; its ephemeral nodes are gone or going.
 */
export type SessionState = "connecting" | "connected" | "disconnected" | "expired" | "closed";

/** What a session tells the terms and watches that depend on it. */
export interface SessionListener {
  /**
   * A request that went through the quorum leader was answered: the session was alive on
   * the leader after `sentAt` (`performance.now()` ms), so it cannot expire before
   * `sentAt` + the session timeout.
   */
  heard?(sentAt: number): void;
  /**
   * The connection dropped, or a heartbeat went unanswered: authority is in doubt until
   * {@link restored}. `cause` says which, for the `suspended` event.
   */
  disconnected?(cause: string): void;
  /** Back within the same session, and a request sent since was answered. */
  restored?(): void;
  /** The session is over. */
  ended?(state: "expired" | "closed", message: string): void;
}

/** The parts of a znode's stat we use; zxids exact as bigint, the owner in hex. */
export interface NodeStat {
  readonly czxid: bigint;
  readonly mzxid: bigint;
  readonly version: number;
  readonly cversion: number;
  readonly dataLength: number;
  readonly numChildren: number;
  /** The owning session's id in lowercase hex without leading zeros, `"0"` if persistent. */
  readonly ephemeralOwner: string;
}

/** A znode's data and the parts of its stat we use. */
export interface NodeSnapshot {
  readonly data: Buffer;
  readonly stat: NodeStat;
}

/** What a one-shot watch reports; `lost` means "re-read and watch again". */
export type WatchEvent = "created" | "deleted" | "changed" | "children" | "lost";

/** A one-shot watch set by a read. */
export interface WatchedRead<T> {
  /** The read's result. When it rejects, or finds no node for a data watch, no watch is set. */
  readonly result: Promise<T>;
  /** Stops reporting. The server keeps its watch until it fires. */
  cancel(): void;
}

/** The part of the protocol client a session uses; unit tests stand in for it. */
export interface SessionClient {
  readonly sessionId: bigint;
  readonly sessionPassword: Buffer;
  subscribe(listener: ZooKeeperClientListener): () => void;
  start(): void;
  create(path: string, data: Buffer, mode?: CreateMode): Promise<string>;
  delete(path: string, version?: number): Promise<void>;
  exists(path: string, watcher?: Watcher): Promise<Stat | undefined>;
  getData(path: string, watcher?: Watcher): Promise<DataResult>;
  getChildren(path: string, watcher?: Watcher): Promise<ChildrenResult>;
  setData(path: string, data: Buffer, version?: number): Promise<Stat>;
  sync(path: string): Promise<void>;
  multi(ops: readonly Op[]): Promise<OpResult[]>;
  forget(path: string, watcher: Watcher): void;
  close(): Promise<void>;
}

/** Makes the client of a session. */
export type ClientFactory = (options: ZooKeeperClientOptions) => SessionClient;

/** What the session needs to know of its configuration. */
export interface SessionOptions {
  /** `host:port` each. */
  readonly servers: readonly string[];
  /** The timeout to ask for; the server may grant another. */
  readonly requestedTimeoutMs: number;
  /**
   * The configured safety margin; the one in use is recomputed from the negotiated timeout
   * on every connection (see {@link Session.marginMs}).
   */
  readonly safetyMarginMs: number;
  readonly logger: Logger;
}

/** A session that ended, for requests and waits that outlive it. */
export class SessionEndedError extends ZooKeeperConnectionError {
  constructor(state: "expired" | "closed", message: string) {
    super(message, state === "expired" ? codes.sessionExpired : codes.closing);
  }
}

interface Orphan {
  readonly parent: string;
  /** Children whose name starts with this are ours to delete. */
  readonly prefix: string;
}

/** Requests whose answer shows the session alive on the quorum leader. */
const throughLeader = new Set(["sync", "create", "delete", "setData", "multi"]);

/** Answers the server gave, as opposed to a session or connection failure. */
const serverAnswers = new Set<number>([
  codes.ok,
  codes.noNode,
  codes.noAuth,
  codes.badVersion,
  codes.noChildrenForEphemerals,
  codes.nodeExists,
  codes.notEmpty,
]);

/**
 * One ZooKeeper session, on one protocol client, and the bookkeeping the election needs on
 * top of it.
 *
 * @remarks
 * - Heard: a `sync` every fifth of (session timeout − margin), pipelined (one goes out on time
 *   even while the last is unanswered), plus every write, tells the terms when the session was
 *   last known alive on the quorum leader, from each request's send time. Reads and pings do
 *   not count: a follower answers them itself, and tells the leader that the session lives
 *   only while it still reaches the leader, up to `syncLimit` ticks after it stopped doing so.
 * - Watches survive reconnects: the client sets them again on the new connection. They report
 *   `lost` when the session ends.
 * - Orphans: nodes a failed or withdrawn campaign could not delete, deleted once the session
 *   answers again; if the session ends first, the server deletes them.
 */
export class Session {
  readonly #client: SessionClient;
  readonly #options: SessionOptions;
  readonly #logger: Logger;
  readonly #listeners = new Set<SessionListener>();
  readonly #wakers = new Set<() => void>();
  readonly #orphans = new Map<string, Orphan>();
  readonly #heartbeat: Heartbeat;
  #state: SessionState = "connecting";
  #endMessage = "";
  #id: string | undefined;
  #timeoutMs: number;
  #marginMs: number;
  #lastHeard: number | undefined;
  /** Whether a request sent since the last (re)connect was answered. */
  #verified = false;
  /** A heartbeat went unanswered for a whole interval while the connection looked fine. */
  #silent = false;
  #connections = 0;
  #doubt = "";
  #sweeping = false;

  constructor(createClient: ClientFactory, options: SessionOptions) {
    this.#options = options;
    this.#logger = options.logger;
    this.#timeoutMs = options.requestedTimeoutMs;
    this.#marginMs = marginFor(options.safetyMarginMs, options.requestedTimeoutMs);
    this.#heartbeat = new Heartbeat(
      () => this.#beat(),
      () => this.#overdue(),
    );
    this.#client = createClient({
      servers: options.servers,
      sessionTimeoutMs: options.requestedTimeoutMs,
      logger: options.logger,
    });
    this.#client.subscribe({
      connected: (info) => this.#onConnect(info),
      disconnected: (reason) =>
        this.#disconnected(`the connection to ZooKeeper dropped: ${reason}`),
      ended: (state, reason) => this.#onEnded(state, reason),
      answered: (answer) => this.#onAnswer(answer),
    });
    this.#client.start();
  }

  get state(): SessionState {
    return this.#state;
  }

  /**
   * How many connections the session has had. Notifications of one connection come in the
   * order the server applied their changes; after a reconnect, the watches named again fire
   * in the order the client names them, which is not that order.
   */
  get connections(): number {
    return this.#connections;
  }

  get ended(): boolean {
    return this.#state === "expired" || this.#state === "closed";
  }

  /** The session id in hex, as ZooKeeper's logs and four-letter words print it. */
  get id(): string | undefined {
    return this.#id;
  }

  /** The session password in hex (32 characters); never logged. */
  get password(): string | undefined {
    return this.#id === undefined ? undefined : this.#client.sessionPassword.toString("hex");
  }

  /** The negotiated session timeout, or the requested one before the first connection. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /**
   * The safety margin in use: the configured one, but at most half of the negotiated
   * timeout; when the server granted another timeout than requested and the margin was the
   * default, the default of the granted timeout.
   */
  get marginMs(): number {
    return this.#marginMs;
  }

  /** When the last request that proved the session alive was sent. */
  get lastHeard(): number | undefined {
    return this.#lastHeard;
  }

  /** Whether a request sent since the last (re)connect was answered. */
  get verified(): boolean {
    return this.#state === "connected" && this.#verified;
  }

  /** Why authority is in doubt now (disconnected, or a heartbeat is overdue), if it is. */
  get doubt(): string | undefined {
    if (this.#state === "disconnected") return this.#doubt;
    return this.#state === "connected" && this.#silent ? this.#doubt : undefined;
  }

  /** @returns a function that removes the listener. */
  subscribe(listener: SessionListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Resolves once requests can flow.
   *
   * @param timeoutMs rejects with a ConnectionError if not connected by then; none: no limit.
   * @throws SessionEndedError if the session ends first; the signal's reason if it aborts.
   */
  ready(signal: AbortSignal, timeoutMs?: number): Promise<void> {
    if (this.#state === "connected") return Promise.resolve();
    if (this.ended) return Promise.reject(this.#endedError());
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.#wakers.delete(wake);
        settle();
      };
      const onAbort = () => finish(() => reject(signal.reason));
      const wake = () => {
        if (this.#state === "connected") finish(resolve);
        else if (this.ended) finish(() => reject(this.#endedError()));
      };
      // Ref'd: acquire() is awaited, and against servers that never answer only this ends it.
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () =>
                finish(() =>
                  reject(
                    new ConnectionError(
                      `could not connect to ZooKeeper at ${this.#options.servers.join(",")} within ${timeoutMs} ms`,
                    ),
                  ),
                ),
              timeoutMs,
            );
      signal.addEventListener("abort", onAbort, { once: true });
      this.#wakers.add(wake);
    });
  }

  // --- requests ---

  /** Creates an ephemeral-sequential node; resolves with its full path. */
  createEphemeralSequential(prefix: string, data: string): Promise<string> {
    return this.#request(() =>
      this.#client.create(prefix, Buffer.from(data, "utf8"), "ephemeralSequential"),
    );
  }

  /**
   * Creates every missing node of `path`: persistent down to `root`, containers below it, so
   * that the server removes an election's node some time after its last candidate left.
   */
  async ensurePath(path: string, root: string): Promise<void> {
    const levels: string[] = [];
    for (const part of path.split("/").slice(1)) levels.push(`${levels.at(-1) ?? ""}/${part}`);
    // Sent back to back, in one round trip: a session's requests are applied in order.
    await Promise.all(
      levels.map(async (node) => {
        const mode = node.startsWith(`${root}/`) ? "container" : "persistent";
        try {
          await this.#request(() => this.#client.create(node, Buffer.alloc(0), mode));
        } catch (error) {
          if (!isNodeExists(error)) throw error;
        }
      }),
    );
  }

  /** Deletes a node whatever its version. */
  delete(path: string): Promise<void> {
    return this.#request(() => this.#client.delete(path, -1));
  }

  /** Sets a node's data whatever its version. */
  async setData(path: string, data: string): Promise<NodeStat> {
    return nodeStat(
      await this.#request(() => this.#client.setData(path, Buffer.from(data, "utf8"), -1)),
    );
  }

  /**
   * Applies every op or none (a check that a node still exists, plus writes, for example).
   *
   * @throws MultiError naming the op that refused.
   */
  multi(ops: readonly Op[]): Promise<OpResult[]> {
    return this.#request(() => this.#client.multi(ops));
  }

  /** Reads a node, or undefined if there is none. */
  async get(path: string): Promise<NodeSnapshot | undefined> {
    try {
      const { data, stat } = await this.#request(() => this.#client.getData(path));
      return { data, stat: nodeStat(stat) };
    } catch (error) {
      if (isNoNode(error)) return undefined;
      throw error;
    }
  }

  /** Reads a node's stat, or undefined if there is none. */
  async exists(path: string): Promise<NodeStat | undefined> {
    const stat = await this.#request(() => this.#client.exists(path));
    return stat === undefined ? undefined : nodeStat(stat);
  }

  /** Lists a node's children; none if the node does not exist. */
  async children(path: string): Promise<string[]> {
    try {
      return (await this.#request(() => this.#client.getChildren(path))).children;
    } catch (error) {
      if (isNoNode(error)) return [];
      throw error;
    }
  }

  /** A `sync` through the quorum leader: proves the session alive there. */
  sync(path: string): Promise<void> {
    return this.#request(() => this.#client.sync(path));
  }

  /**
   * Reads a node and sets a data watch on it (`get`, not `exists`: an exists-watch on a node
   * that is already gone would fire on its re-creation, never on a deletion). Resolves with
   * undefined, and sets no watch, when the node does not exist.
   */
  watchData(
    path: string,
    report: (event: WatchEvent) => void,
  ): WatchedRead<NodeSnapshot | undefined> {
    return this.#watched(path, report, async (watcher) => {
      try {
        const { data, stat } = await this.#client.getData(path, watcher);
        return { data, stat: nodeStat(stat) };
      } catch (error) {
        if (isNoNode(error)) return undefined;
        throw error;
      }
    });
  }

  /** Lists children and sets a child watch; only observers use it, and only on an empty line. */
  watchChildren(path: string, report: (event: WatchEvent) => void): WatchedRead<string[]> {
    return this.#watched(
      path,
      report,
      async (watcher) => (await this.#client.getChildren(path, watcher)).children,
    );
  }

  /** Checks a node and sets an exists-watch, which fires when it is created. */
  watchExists(
    path: string,
    report: (event: WatchEvent) => void,
  ): WatchedRead<NodeStat | undefined> {
    return this.#watched(path, report, async (watcher) => {
      // Unlike a data watch, an exists-watch is set on a missing node too.
      const stat = await this.#client.exists(path, watcher);
      return stat === undefined ? undefined : nodeStat(stat);
    });
  }

  // --- orphans ---

  /**
   * Asks for the deletion of `parent`'s children whose name starts with `prefix`, now if the
   * session answers, else once it answers again.
   */
  forget(parent: string, prefix: string): void {
    if (this.ended) return;
    this.#orphans.set(`${parent}/${prefix}`, { parent, prefix });
    if (this.verified) void this.#sweep();
  }

  /**
   * Ends the session: the server deletes its ephemeral nodes at once. Returns at once; the
   * client waits for the server's answer (a third of the session timeout at most) on its
   * own, and then releases its socket.
   */
  close(): void {
    if (this.ended) return;
    void this.#client.close();
    this.#end("closed", "the session was closed");
  }

  // --- internals ---

  #onConnect(info: ConnectedInfo): void {
    if (this.ended) return;
    const id = info.sessionId.toString(16);
    const resumed = this.#id !== undefined;
    this.#id = id;
    this.#connections += 1;
    if (info.timeoutMs !== this.#timeoutMs || !resumed) this.#negotiated(info.timeoutMs);
    this.#state = "connected";
    this.#verified = false;
    this.#silent = false;
    this.#logger.debug(
      { sessionId: id, sessionTimeoutMs: this.#timeoutMs, server: info.server, resumed },
      resumed ? "reconnected to ZooKeeper" : "connected to ZooKeeper",
    );
    this.#wake();
    // Answers extend the deadline from their send time: with a beat every fifth of the time
    // a term may go unheard (timeout − margin), a round trip of up to four fifths of it keeps
    // the term. A beat unanswered for three quarters of it puts authority in doubt.
    const usable = this.#timeoutMs - this.#marginMs;
    this.#heartbeat.start(usable / 5, (usable * 3) / 4);
  }

  /** Takes the granted timeout, and the margin that goes with it, on every connection. */
  #negotiated(timeoutMs: number): void {
    const requested = this.#options.requestedTimeoutMs;
    this.#timeoutMs = timeoutMs;
    const configured = this.#options.safetyMarginMs;
    // A margin left at its default follows the granted timeout; any margin stays below half.
    const margin =
      configured === defaultMarginMs(requested) ? defaultMarginMs(timeoutMs) : configured;
    this.#marginMs = marginFor(margin, timeoutMs);
    if (timeoutMs !== requested) {
      this.#logger.warn(
        {
          requestedTimeoutMs: requested,
          sessionTimeoutMs: timeoutMs,
          safetyMarginMs: this.#marginMs,
        },
        `ZooKeeper granted a session timeout of ${timeoutMs} ms in place of the requested ${requested} ms (the server's minSessionTimeout/maxSessionTimeout); deadlines use ${timeoutMs} ms with a safety margin of ${this.#marginMs} ms`,
      );
    }
  }

  #disconnected(message: string): void {
    if (this.#state !== "connected") return;
    this.#doubt = message;
    this.#state = "disconnected";
    this.#verified = false;
    this.#silent = false;
    this.#heartbeat.stop();
    this.#logger.debug({ sessionId: this.#id }, message);
    for (const listener of [...this.#listeners]) listener.disconnected?.(message);
  }

  #onEnded(state: EndedState, reason: string): void {
    if (state === "expired") this.#end("expired", reason);
    else if (state === "auth-failed") this.#end("closed", reason);
    else this.#end("closed", reason);
  }

  #onAnswer(answer: Answer): void {
    if (throughLeader.has(answer.operation) && serverAnswers.has(answer.code)) {
      this.#heard(answer.sentAt);
    }
  }

  #end(state: "expired" | "closed", message: string): void {
    if (this.ended) return;
    this.#state = state;
    this.#endMessage = message;
    this.#heartbeat.stop();
    this.#orphans.clear();
    // The client has ended already when it reported the end; closing it again is a no-op.
    void this.#client.close();
    this.#logger.debug({ sessionId: this.#id, state }, message);
    for (const listener of [...this.#listeners]) listener.ended?.(state, message);
    this.#wake();
  }

  #endedError(): SessionEndedError {
    const state = this.#state === "expired" ? "expired" : "closed";
    return new SessionEndedError(state, this.#endMessage || `the ZooKeeper session is ${state}`);
  }

  #wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  async #beat(): Promise<void> {
    await this.sync("/");
    if (this.#state === "connected" && (!this.#verified || this.#silent)) {
      this.#verified = true;
      this.#silent = false;
      this.#logger.debug({ sessionId: this.#id }, "ZooKeeper answers");
      for (const listener of [...this.#listeners]) listener.restored?.();
      void this.#sweep();
    }
  }

  /**
   * A heartbeat is unanswered after three quarters of the time a term may go unheard, while
   * the connection looks fine: authority is in doubt from now, before the deadline passes.
   */
  #overdue(): void {
    if (this.#state !== "connected" || this.#silent) return;
    this.#silent = true;
    const overdueMs = Math.round(((this.#timeoutMs - this.#marginMs) * 3) / 4);
    const cause = `ZooKeeper has not answered a heartbeat for ${overdueMs} ms`;
    this.#doubt = cause;
    this.#logger.debug({ sessionId: this.#id }, cause);
    for (const listener of [...this.#listeners]) listener.disconnected?.(cause);
  }

  #heard(sentAt: number): void {
    if (this.ended) return;
    if (this.#lastHeard === undefined || sentAt > this.#lastHeard) this.#lastHeard = sentAt;
    for (const listener of [...this.#listeners]) listener.heard?.(sentAt);
  }

  async #sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      for (const [key, orphan] of [...this.#orphans]) {
        if (!this.verified) return;
        const names = await this.children(orphan.parent);
        for (const name of names.filter((child) => child.startsWith(orphan.prefix))) {
          try {
            await this.delete(`${orphan.parent}/${name}`);
          } catch (error) {
            if (!isNoNode(error)) throw error;
          }
          this.#logger.debug({ node: `${orphan.parent}/${name}` }, "deleted an orphaned node");
        }
        this.#orphans.delete(key);
      }
    } catch (error) {
      this.#logger.debug({ err: error }, "orphaned nodes are kept for the next reconnect");
    } finally {
      this.#sweeping = false;
    }
  }

  #request<T>(send: () => Promise<T>): Promise<T> {
    if (this.ended) return Promise.reject(this.#endedError());
    return send().catch((error: unknown) => {
      // A request cut short by the session's end says so, as waits on the session do.
      throw this.ended ? this.#endedError() : error;
    });
  }

  #watched<T>(
    path: string,
    report: (event: WatchEvent) => void,
    read: (watcher: Watcher) => Promise<T>,
  ): WatchedRead<T> {
    let fired = false;
    const watcher: Watcher = (event: WatchedEventType) => {
      if (fired) return;
      fired = true;
      // Tests count these to show that one departure wakes one candidate.
      this.#logger.debug({ path, event }, "watch event");
      report(event);
    };
    const result = this.#request(() => read(watcher));
    result.catch(() => {
      fired = true;
    });
    return {
      result,
      cancel: () => {
        fired = true;
        this.#client.forget(path, watcher);
      },
    };
  }
}

/** core's default margin for a timeout: the larger of 500 ms and a tenth of it. */
function defaultMarginMs(timeoutMs: number): number {
  return Math.max(500, Math.floor(timeoutMs / 10));
}

/** A margin of at most half the timeout: the other half is what a leader may use. */
function marginFor(marginMs: number, timeoutMs: number): number {
  return Math.min(marginMs, Math.floor(timeoutMs / 2));
}

function nodeStat(stat: Stat): NodeStat {
  return {
    czxid: stat.czxid,
    mzxid: stat.mzxid,
    version: stat.version,
    cversion: stat.cversion,
    dataLength: stat.dataLength,
    numChildren: stat.numChildren,
    ephemeralOwner: stat.ephemeralOwner.toString(16),
  };
}
