import { ConnectionError, type Logger } from "@elector/core";
import { now } from "@elector/core/backend";
import {
  createFlags,
  events,
  isServerAnswer,
  type NativeClient,
  type NativeStat,
  type NativeWatcher,
  rc,
  states,
} from "./binding.js";
import { isNodeExists, isNoNode, requestError, ZooKeeperConnectionError } from "./errors.js";
import { Heartbeat } from "./heartbeat.js";

/**
 * - `connecting`: the first connection of the session is being made.
 * - `connected`: requests flow.
 * - `disconnected`: the connection dropped; the C client is reconnecting within the session.
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

/** A znode's data and the parts of its stat we use. */
export interface NodeSnapshot {
  readonly data: Buffer;
  readonly stat: NativeStat;
}

/** What a one-shot watch reports; `lost` means "re-read and watch again". */
export type WatchEvent = "created" | "deleted" | "changed" | "children" | "lost";

/** A one-shot watch set by a read. */
export interface WatchedRead<T> {
  /** The read's result. When it rejects, or finds no node for a data watch, no watch is set. */
  readonly result: Promise<T>;
  /**
   * Stops reporting. The server keeps its watch until it fires: the binding cannot remove
   * watches.
   */
  cancel(): void;
}

/** What the session needs to know of its configuration. */
export interface SessionOptions {
  /** `host:port,host:port`. */
  readonly connect: string;
  /** The timeout to ask for; the server may grant another. */
  readonly requestedTimeoutMs: number;
  readonly logger: Logger;
}

/** A session that ended, for requests and waits that outlive it. */
export class SessionEndedError extends ZooKeeperConnectionError {
  constructor(state: "expired" | "closed", message: string) {
    super(message, state === "expired" ? rc.sessionExpired : rc.closing);
  }
}

interface ActiveWatch {
  readonly report: (event: WatchEvent) => void;
  fired: boolean;
}

interface Orphan {
  readonly parent: string;
  /** Children whose name starts with this are ours to delete. */
  readonly prefix: string;
}

type Binding = new (config: Record<string, unknown>) => NativeClient;

/**
 * One ZooKeeper session: a handle of the C client, and the bookkeeping JavaScript needs on
 * top of it.
 *
 * @remarks
 * - Heard: a `sync` every third of the session timeout, plus every write, tells the terms
 *   when the session was last known alive on the quorum leader. Reads do not count: an
 *   isolated follower may still answer them.
 * - Quirks of the binding: watch callbacks also receive session events, which are ignored
 *   here (the C client keeps the watch and re-registers it on reconnect); and the binding
 *   closes its handle by itself after ten empty reads, or on expiry, reporting both as
 *   "expired". So a handle that closes on its own is replaced by one that resumes the same
 *   session with its id and password: the server then says whether the session still lives.
 * - Orphans: nodes a failed or withdrawn campaign could not delete, deleted once the session
 *   answers again; if the session ends first, the server deletes them.
 */
export class Session {
  readonly #Binding: Binding;
  readonly #options: SessionOptions;
  readonly #logger: Logger;
  readonly #listeners = new Set<SessionListener>();
  readonly #wakers = new Set<() => void>();
  readonly #watches = new Set<ActiveWatch>();
  readonly #orphans = new Map<string, Orphan>();
  readonly #heartbeat: Heartbeat;
  #handle!: NativeClient;
  /** Whether the current handle has connected at least once. */
  #handleConnected = false;
  #state: SessionState = "connecting";
  #endMessage = "";
  #id: string | undefined;
  #password: string | undefined;
  #timeoutMs: number;
  #lastHeard: number | undefined;
  /** Whether a request sent since the last (re)connect was answered. */
  #verified = false;
  /** A heartbeat went unanswered for a whole interval while the C client saw no problem. */
  #silent = false;
  #doubt = "";
  #closing = false;
  #sweeping = false;
  #initFailure: ConnectionError | undefined;

  constructor(Binding: Binding, options: SessionOptions) {
    this.#Binding = Binding;
    this.#options = options;
    this.#logger = options.logger;
    this.#timeoutMs = options.requestedTimeoutMs;
    this.#heartbeat = new Heartbeat(
      () => this.#beat(),
      () => this.#overdue(),
    );
    this.#open(undefined);
  }

  get state(): SessionState {
    return this.#state;
  }

  get ended(): boolean {
    return this.#state === "expired" || this.#state === "closed";
  }

  /** The session id in hex, as ZooKeeper's logs and four-letter words print it. */
  get id(): string | undefined {
    return this.#id;
  }

  /** The session password in hex; never logged. */
  get password(): string | undefined {
    return this.#password;
  }

  /** The negotiated session timeout, or the requested one before the first connection. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** When the last request that proved the session alive was sent. */
  get lastHeard(): number | undefined {
    return this.#lastHeard;
  }

  /** Whether the C client refused to start (no server address resolved): replace it. */
  get failedToStart(): boolean {
    return this.#initFailure !== undefined;
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
    if (this.#initFailure !== undefined) return Promise.reject(this.#initFailure);
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
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(
              () =>
                finish(() =>
                  reject(
                    new ConnectionError(
                      `could not connect to ZooKeeper at ${this.#options.connect} within ${timeoutMs} ms`,
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
    return this.#request("create", prefix, true, (handle, done) =>
      handle.a_create(prefix, data, createFlags.ephemeralSequential, (code, text, path) =>
        done(code, text, path),
      ),
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
        const flags = node.startsWith(`${root}/`) ? createFlags.container : createFlags.persistent;
        try {
          await this.#request("create", node, true, (handle, done) =>
            handle.a_create(node, "", flags, (code, text) => done(code, text, node)),
          );
        } catch (error) {
          if (!isNodeExists(error)) throw error;
        }
      }),
    );
  }

  /** Deletes a node whatever its version. */
  delete(path: string): Promise<void> {
    return this.#request("delete", path, true, (handle, done) =>
      handle.a_delete_(path, -1, (code, text) => done(code, text, undefined)),
    );
  }

  /** Sets a node's data whatever its version. */
  setData(path: string, data: string): Promise<NativeStat> {
    return this.#request("set", path, true, (handle, done) =>
      handle.a_set(path, data, -1, (code, text, stat) => done(code, text, stat as NativeStat)),
    );
  }

  /** Reads a node, or undefined if there is none. */
  async get(path: string): Promise<NodeSnapshot | undefined> {
    try {
      return await this.#request("get", path, false, (handle, done) =>
        handle.a_get(path, false, (code, text, stat, data) =>
          done(code, text, { stat: stat as NativeStat, data: data ?? Buffer.alloc(0) }),
        ),
      );
    } catch (error) {
      if (isNoNode(error)) return undefined;
      throw error;
    }
  }

  /** Reads a node's stat, or undefined if there is none. */
  async exists(path: string): Promise<NativeStat | undefined> {
    try {
      return await this.#request("exists", path, false, (handle, done) =>
        handle.a_exists(path, false, (code, text, stat) => done(code, text, stat as NativeStat)),
      );
    } catch (error) {
      if (isNoNode(error)) return undefined;
      throw error;
    }
  }

  /** Lists a node's children; none if the node does not exist. */
  async children(path: string): Promise<string[]> {
    try {
      return await this.#request("list", path, false, (handle, done) =>
        handle.a_get_children(path, false, (code, text, children) =>
          done(code, text, children ?? []),
        ),
      );
    } catch (error) {
      if (isNoNode(error)) return [];
      throw error;
    }
  }

  /** A `sync` through the quorum leader: proves the session alive there. */
  sync(path: string): Promise<void> {
    return this.#request("sync", path, true, (handle, done) =>
      handle.a_sync(path, (code, text) => done(code, text, undefined)),
    );
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
    return this.#watched("get", path, report, (handle, watcher, done) =>
      handle.aw_get(path, watcher, (code, text, stat, data) => {
        if (code === rc.noNode) done(rc.ok, text, undefined, false);
        else done(code, text, { stat: stat as NativeStat, data: data ?? Buffer.alloc(0) }, true);
      }),
    );
  }

  /** Lists children and sets a child watch; only observers use it, and only on an empty line. */
  watchChildren(path: string, report: (event: WatchEvent) => void): WatchedRead<string[]> {
    return this.#watched("list", path, report, (handle, watcher, done) =>
      handle.aw_get_children(path, watcher, (code, text, children) =>
        done(code, text, children ?? [], code === rc.ok),
      ),
    );
  }

  /** Checks a node and sets an exists-watch, which fires when it is created. */
  watchExists(
    path: string,
    report: (event: WatchEvent) => void,
  ): WatchedRead<NativeStat | undefined> {
    return this.#watched("exists", path, report, (handle, watcher, done) =>
      handle.aw_exists(path, watcher, (code, text, stat) => {
        // Unlike a data watch, an exists-watch is set on a missing node too.
        if (code === rc.noNode) done(rc.ok, text, undefined, true);
        else done(code, text, stat as NativeStat, code === rc.ok);
      }),
    );
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
   * Ends the session: the server deletes its ephemeral nodes at once. The binding's close
   * is synchronous and, while connected, waits for the server's answer.
   */
  close(): void {
    if (this.ended) return;
    this.#closing = true;
    this.#handle.close();
    this.#end("closed", "the session was closed");
  }

  // --- internals ---

  #open(credentials: { id: string; password: string } | undefined): void {
    const handle = new this.#Binding({
      connect: this.#options.connect,
      timeout: this.#options.requestedTimeoutMs,
      // 0 silences the C client's own logging to stderr; we log its events ourselves.
      debug_level: 0,
      host_order_deterministic: false,
      ...(credentials === undefined
        ? {}
        : { client_id: credentials.id, client_password: credentials.password }),
    });
    this.#handle = handle;
    this.#handleConnected = false;
    handle.on("connect", () => this.#onConnect(handle));
    handle.on("connecting", () => this.#onConnecting(handle));
    handle.on("close", (_client, code) => this.#onClose(handle, code));
    handle.init({});
    // zookeeper_init failed (no server address resolved): the binding returns no error, and
    // the handle would never connect.
    if (handle.timeout === -1) {
      this.#initFailure = new ConnectionError(
        `the ZooKeeper C client refused the servers ${this.#options.connect} (no address could be resolved)`,
      );
    }
  }

  #onConnect(handle: NativeClient): void {
    if (handle !== this.#handle || this.ended) return;
    const id = handle.client_id;
    if (this.#id !== undefined && id !== this.#id) {
      // The C client never moves a handle to another session; if it did, ours is over.
      this.#end("expired", `the server gave a new session ${id} in place of ${this.#id}`);
      return;
    }
    const resumed = this.#id !== undefined;
    this.#id = id;
    this.#password = handle.client_password;
    if (handle.timeout > 0) this.#timeoutMs = handle.timeout;
    this.#handleConnected = true;
    this.#state = "connected";
    this.#verified = false;
    this.#silent = false;
    this.#logger.debug(
      { sessionId: id, sessionTimeoutMs: this.#timeoutMs, resumed },
      resumed ? "reconnected to ZooKeeper" : "connected to ZooKeeper",
    );
    this.#wake();
    this.#heartbeat.start(this.#timeoutMs / 3);
  }

  #onConnecting(handle: NativeClient): void {
    if (handle !== this.#handle || this.ended) return;
    this.#disconnected("the connection to ZooKeeper dropped");
  }

  #onClose(handle: NativeClient, code: number): void {
    if (handle !== this.#handle || this.ended || this.#closing) return;
    this.#heartbeat.stop();
    if (code === states.authFailed) {
      this.#end("closed", "ZooKeeper refused the session's authentication");
      return;
    }
    if (this.#id !== undefined && !this.#handleConnected) {
      this.#end("expired", `ZooKeeper session ${this.#id} expired`);
      return;
    }
    if (this.#id === undefined) {
      this.#logger.debug(
        { code },
        "the ZooKeeper handle closed before connecting; opening another",
      );
      this.#open(undefined);
    } else {
      this.#disconnected(`the ZooKeeper handle closed (${code}); resuming the session`);
      this.#open({ id: this.#id, password: this.#password ?? "" });
    }
    // Last, so that watches set again go to the new handle.
    this.#dropWatches();
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

  #end(state: "expired" | "closed", message: string): void {
    if (this.ended) return;
    this.#state = state;
    this.#endMessage = message;
    this.#heartbeat.stop();
    this.#orphans.clear();
    if (!this.#closing) {
      // The binding already closed the handle on expiry; close() is then a no-op.
      this.#closing = true;
      this.#handle.close();
    }
    this.#logger.debug({ sessionId: this.#id, state }, message);
    this.#dropWatches();
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
   * A heartbeat is unanswered after a third of the session timeout: the C client would take
   * two thirds to notice. Authority is in doubt from now, not from then, so that a partition
   * shows as `suspended` well before the session timeout's local verdict.
   */
  #overdue(): void {
    if (this.#state !== "connected" || this.#silent) return;
    this.#silent = true;
    const cause = `ZooKeeper has not answered a heartbeat for ${Math.round(this.#timeoutMs / 3)} ms`;
    this.#doubt = cause;
    this.#logger.debug({ sessionId: this.#id }, cause);
    for (const listener of [...this.#listeners]) listener.disconnected?.(cause);
  }

  #heard(sentAt: number): void {
    if (this.ended) return;
    if (this.#lastHeard === undefined || sentAt > this.#lastHeard) this.#lastHeard = sentAt;
    for (const listener of [...this.#listeners]) listener.heard?.(sentAt);
  }

  /** Reports `lost` to every watch: they were set on a handle that is gone. */
  #dropWatches(): void {
    const watches = [...this.#watches];
    this.#watches.clear();
    for (const watch of watches) {
      if (watch.fired) continue;
      watch.fired = true;
      watch.report("lost");
    }
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

  #request<T>(
    operation: string,
    path: string,
    throughLeader: boolean,
    issue: (handle: NativeClient, done: (code: number, text: string, result: T) => void) => number,
  ): Promise<T> {
    if (this.ended) return Promise.reject(this.#endedError());
    return new Promise<T>((resolve, reject) => {
      const sentAt = now();
      const queued = issue(this.#handle, (code, text, result) => {
        if (throughLeader && isServerAnswer(code)) this.#heard(sentAt);
        if (code === rc.ok) resolve(result);
        else reject(requestError(code, text, operation, path));
      });
      if (queued !== rc.ok) {
        reject(
          this.ended
            ? this.#endedError()
            : requestError(queued, "the request was not queued", operation, path),
        );
      }
    });
  }

  #watched<T>(
    operation: string,
    path: string,
    report: (event: WatchEvent) => void,
    issue: (
      handle: NativeClient,
      watcher: NativeWatcher,
      done: (code: number, text: string, result: T, watching: boolean) => void,
    ) => number,
  ): WatchedRead<T> {
    const handle = this.#handle;
    const watch: ActiveWatch = { report, fired: false };
    const watcher: NativeWatcher = (type) => {
      // The C client calls every watcher on session events and keeps the watch.
      if (type === events.session || watch.fired) return;
      watch.fired = true;
      this.#watches.delete(watch);
      const event = watchEvent(type);
      // Tests count these to show that one departure wakes one candidate.
      this.#logger.debug({ path, event }, "watch event");
      report(event);
    };
    const result = this.ended
      ? Promise.reject(this.#endedError())
      : new Promise<T>((resolve, reject) => {
          const queued = issue(handle, watcher, (code, text, value, watching) => {
            if (code !== rc.ok) {
              watch.fired = true;
              reject(requestError(code, text, operation, path));
              return;
            }
            if (watching && !watch.fired && handle === this.#handle) this.#watches.add(watch);
            else watch.fired = true;
            resolve(value);
          });
          if (queued !== rc.ok) {
            watch.fired = true;
            reject(
              this.ended
                ? this.#endedError()
                : requestError(queued, "the request was not queued", operation, path),
            );
          }
        });
    return {
      result,
      cancel: () => {
        watch.fired = true;
        this.#watches.delete(watch);
      },
    };
  }
}

function watchEvent(type: number): WatchEvent {
  switch (type) {
    case events.created:
      return "created";
    case events.deleted:
      return "deleted";
    case events.changed:
      return "changed";
    case events.child:
      return "children";
    default:
      return "lost";
  }
}
