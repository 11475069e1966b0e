import { connect as connectTcp, type Socket } from "node:net";
import { type Logger, silentLogger } from "@elector/core";
import { now } from "@elector/core/backend";
import { requestError, ZooKeeperConnectionError, ZooKeeperRequestError } from "../errors.js";
import { codes, codeText, eventTypes, opCodes, xids } from "./codes.js";
import { HostList } from "./host-list.js";
import { JuteReader, JuteWriter, PacketReader } from "./jute.js";
import {
  type Acl,
  type CreateMode,
  type MultiOutcome,
  type Op,
  type OpResult,
  openAcl,
  readMulti,
  readStat,
  type Stat,
  writeCreate,
  writeMulti,
} from "./records.js";

/** Options of a {@link ZooKeeperClient}. */
export interface ZooKeeperClientOptions {
  /** `host:port` of every server of the ensemble. */
  readonly servers: readonly string[];
  /** The session timeout to ask for; the server may grant another (see `connected`). */
  readonly sessionTimeoutMs: number;
  /**
   * A path that prefixes every path of this client, as `host:port/chroot` does in other
   * clients; paths the server reports are given back without it.
   * @defaultValue none
   */
  readonly chroot?: string;
  /**
   * Identities to add to the session on every connection, as `addAuthInfo` does: for
   * `digest`, `auth` is `user:password`.
   * @defaultValue none
   */
  readonly auth?: readonly { readonly scheme: string; readonly auth: string }[];
  /**
   * How long a request may go unanswered before the connection is given up as wedged.
   * @defaultValue the negotiated session timeout
   */
  readonly requestTimeoutMs?: number;
  /**
   * How long one server may take to accept the connection and answer the handshake.
   * @defaultValue the session timeout divided by the number of servers, as ZooKeeper's Java
   * client does, at least 1000 ms
   */
  readonly connectTimeoutMs?: number;
  /**
   * The largest packet accepted from a server; a longer length prefix is taken for a
   * corrupt stream.
   * @defaultValue 16 MiB
   */
  readonly maxPacketBytes?: number;
  /**
   * A session to resume (its id and password) rather than a new one: the server ends the
   * session's other connection. When it has expired, the client ends as `expired`.
   * @defaultValue a new session
   */
  readonly session?: { readonly id: bigint; readonly password: Buffer };
  /** @defaultValue silent */
  readonly logger?: Logger;
}

/** What a {@link ZooKeeperClient} reports. Listeners must not throw. */
export interface ZooKeeperClientListener {
  /**
   * A connection is established and the session is (still) valid on it.
   * `resumed` is false for the session's first connection.
   */
  connected?(info: ConnectedInfo): void;
  /** The connection was lost; the client reconnects within the session. */
  disconnected?(reason: string): void;
  /** The session is over; the client does nothing more. */
  ended?(state: EndedState, reason: string): void;
  /**
   * The server answered a request or ping sent at `sentAt` (`performance.now()` ms) on the
   * current connection: it had heard from the session by then.
   */
  answered?(answer: Answer): void;
}

/** Why a session ended. */
export type EndedState = "expired" | "auth-failed" | "closed";

/** A session's connection, as reported to {@link ZooKeeperClientListener.connected}. */
export interface ConnectedInfo {
  readonly sessionId: bigint;
  /** The timeout the server granted, in milliseconds. */
  readonly timeoutMs: number;
  /** Whether this connection resumes a session an earlier connection established. */
  readonly resumed: boolean;
  /** `host:port` of the server. */
  readonly server: string;
}

/** One answer the server gave. */
export interface Answer {
  readonly sentAt: number;
  /** The request's type: `"ping"`, `"sync"`, `"create"`, … */
  readonly operation: string;
  /** The server's result code: 0, or a refusal such as -101 (no node). */
  readonly code: number;
}

/** What a watch reports; `lost` when the session ends before the watch fired. */
export type WatchedEventType = "created" | "deleted" | "changed" | "children" | "lost";

/** Called once when a watch fires. */
export type Watcher = (event: WatchedEventType, path: string) => void;

/** The client's state. */
export type ClientState = "connecting" | "connected" | EndedState;

/** A node's data and stat. */
export interface DataResult {
  readonly data: Buffer;
  readonly stat: Stat;
}

/** A node's children and stat. */
export interface ChildrenResult {
  readonly children: string[];
  readonly stat: Stat;
}

/**
 * A `multi` the server refused as a whole: nothing was applied. `index` is the op that
 * failed, `zooKeeperCode` its refusal (for example -101 for a check on a missing node).
 */
export class MultiError extends ZooKeeperRequestError {
  /** The position of the op that failed, from 0. */
  readonly index: number;

  constructor(message: string, code: number, index: number) {
    super(message, code);
    this.index = index;
  }
}

interface Pending {
  readonly xid: number;
  readonly operation: string;
  readonly path: string;
  readonly sentAt: number;
  readonly settle: (code: number, reader: JuteReader) => void;
}

/** One TCP connection: its bytes, its requests in flight and its timers. */
interface Connection {
  readonly socket: Socket;
  readonly server: string;
  readonly packets: PacketReader;
  /** Requests sent and not answered, in send order: replies come in the same order. */
  readonly pending: Pending[];
  /** Send times of the pings in flight, oldest first. */
  readonly pings: number[];
  established: boolean;
  readonly openedAt: number;
  lastSend: number;
  lastReceive: number;
  /** When the last whole packet arrived: a request's deadline counts from then at the latest. */
  lastPacket: number;
  timer: NodeJS.Timeout | undefined;
  timerAt: number;
}

/** The server's copy of watches, by kind, as SetWatches names them. */
type WatchKind = "data" | "exist" | "child";

/** SetWatches packets stay below this many bytes of paths, as the Java client's do. */
const setWatchesMaxBytes = 128 * 1024;
const maxXid = 2 ** 31 - 1;

/**
 * A client of ZooKeeper's wire protocol, for one session at a time: it connects to the
 * servers in a shuffled order, one at a time, resumes the session on another server when a
 * connection fails, and re-registers its watches there.
 *
 * @remarks
 * - Liveness: a ping goes out once nothing was sent for a third of the session timeout; a
 *   connection on which nothing arrived for two thirds of it is given up (the read timeout
 *   of ZooKeeper's own clients), so a silent partition shows before the session can expire.
 * - Deadlines: the handshake, and every request, have one; a request not answered in time
 *   gives up its connection (replies come in order, so nothing behind it could arrive).
 * - A connection's bytes die with it: a reply cut in the middle never reaches the next one.
 * - Not here: read-only mode, SASL, persistent watches, reconfig, ACL reads and writes.
 */
export class ZooKeeperClient {
  readonly #options: ZooKeeperClientOptions;
  readonly #logger: Logger;
  readonly #hosts: HostList;
  readonly #chroot: string;
  readonly #listeners = new Set<ZooKeeperClientListener>();
  readonly #watches: Record<WatchKind, Map<string, Set<Watcher>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
  };
  #state: ClientState = "connecting";
  #connection: Connection | undefined;
  #sessionId = 0n;
  #password: Buffer = Buffer.alloc(16);
  #timeoutMs: number;
  #lastZxid = 0n;
  #xid = 0;
  /** Failed connection attempts since the last established connection. */
  #failures = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #started = false;

  constructor(options: ZooKeeperClientOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#hosts = new HostList(options.servers);
    this.#chroot = normaliseChroot(options.chroot);
    this.#timeoutMs = options.sessionTimeoutMs;
    if (options.session !== undefined) {
      this.#sessionId = options.session.id;
      this.#password = Buffer.from(options.session.password);
    }
  }

  get state(): ClientState {
    return this.#state;
  }

  /** The session id; 0n before the first connection. */
  get sessionId(): bigint {
    return this.#sessionId;
  }

  /** The session password (16 bytes); all zero before the first connection. */
  get sessionPassword(): Buffer {
    return Buffer.from(this.#password);
  }

  /** The negotiated session timeout, or the requested one before the first connection. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /** The highest zxid the client has seen. */
  get lastZxid(): bigint {
    return this.#lastZxid;
  }

  /** `host:port` of the server of the current connection, if any. */
  get server(): string | undefined {
    return this.#connection?.established === true ? this.#connection.server : undefined;
  }

  /** @returns a function that removes the listener. */
  subscribe(listener: ZooKeeperClientListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Starts connecting; requests fail with connection loss until a connection is made. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#connect();
  }

  // --- requests ---

  /**
   * Creates a node; resolves with its path (with the sequence number for a sequential mode).
   * A container is created with its own request type, as the server requires.
   */
  create(
    path: string,
    data: Buffer,
    mode: CreateMode = "persistent",
    acl: readonly Acl[] = openAcl,
  ): Promise<string> {
    const operation = mode === "container" ? opCodes.createContainer : opCodes.create;
    return this.#submit(
      "create",
      operation,
      path,
      (writer) => writeCreate(writer, this.#serverPath(path), data, acl, mode),
      (reader) => {
        const created = this.#clientPath(reader.string());
        if (operation === opCodes.createContainer) readStat(reader);
        return created;
      },
    );
  }

  /** Deletes a node; `version` -1 deletes whatever its version. */
  delete(path: string, version = -1): Promise<void> {
    return this.#submit(
      "delete",
      opCodes.delete,
      path,
      (writer) => writer.string(this.#serverPath(path)).int(version),
      () => undefined,
    );
  }

  /**
   * A node's stat, or undefined if there is none. With a watcher, it is told when the node
   * is created, changed or deleted.
   */
  async exists(path: string, watcher?: Watcher): Promise<Stat | undefined> {
    try {
      return await this.#submit(
        "exists",
        opCodes.exists,
        path,
        (writer) => writer.string(this.#serverPath(path)).bool(watcher !== undefined),
        (reader) => readStat(reader),
        watcher === undefined ? undefined : { watcher, onOk: "data", onNoNode: "exist" },
      );
    } catch (error) {
      if (codeOf(error) === codes.noNode) return undefined;
      throw error;
    }
  }

  /** A node's data and stat; with a watcher, it is told when the node changes or goes. */
  getData(path: string, watcher?: Watcher): Promise<DataResult> {
    return this.#submit(
      "getData",
      opCodes.getData,
      path,
      (writer) => writer.string(this.#serverPath(path)).bool(watcher !== undefined),
      (reader) => ({ data: reader.buffer() ?? Buffer.alloc(0), stat: readStat(reader) }),
      watcher === undefined ? undefined : { watcher, onOk: "data" },
    );
  }

  /** A node's children and stat; with a watcher, it is told when they change or it goes. */
  getChildren(path: string, watcher?: Watcher): Promise<ChildrenResult> {
    return this.#submit(
      "getChildren",
      opCodes.getChildren2,
      path,
      (writer) => writer.string(this.#serverPath(path)).bool(watcher !== undefined),
      (reader) => ({ children: reader.strings(), stat: readStat(reader) }),
      watcher === undefined ? undefined : { watcher, onOk: "child" },
    );
  }

  /** Sets a node's data; `version` -1 sets it whatever its version. */
  setData(path: string, data: Buffer, version = -1): Promise<Stat> {
    return this.#submit(
      "setData",
      opCodes.setData,
      path,
      (writer) => writer.string(this.#serverPath(path)).buffer(data).int(version),
      (reader) => readStat(reader),
    );
  }

  /**
   * Waits until the server of this connection has applied every write the quorum leader
   * had committed when it received the sync: reads after it see at least that state.
   */
  sync(path: string): Promise<void> {
    return this.#submit(
      "sync",
      opCodes.sync,
      path,
      (writer) => writer.string(this.#serverPath(path)),
      () => undefined,
    );
  }

  /**
   * Applies every op or none, atomically.
   *
   * @throws MultiError naming the op that refused, when the server applied none.
   */
  async multi(ops: readonly Op[]): Promise<OpResult[]> {
    const outcome: MultiOutcome = await this.#submit(
      "multi",
      opCodes.multi,
      ops[0]?.path ?? "/",
      (writer) => writeMulti(writer, ops, (path) => this.#serverPath(path)),
      (reader) => readMulti(reader, (path) => this.#clientPath(path)),
    );
    if (outcome.ok) return outcome.results;
    const op = ops[outcome.index];
    throw new MultiError(
      `ZooKeeper multi failed at op ${outcome.index} (${op?.type} ${JSON.stringify(op?.path)}): ${outcome.code} ${codeText(outcome.code)}`,
      outcome.code,
      outcome.index,
    );
  }

  /**
   * Ends the session: the server deletes its ephemeral nodes. Waits for the server's answer
   * for a third of the session timeout at most, never blocking the event loop, and then
   * releases the socket. Pending requests fail; watches report `lost`.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    const connection = this.#connection;
    const wasOpen = this.#state === "connected" && connection?.established === true;
    this.#end("closed", "the client was closed", false);
    if (!wasOpen || connection === undefined) {
      if (connection !== undefined) this.#release(connection);
      this.#closing = Promise.resolve();
      return this.#closing;
    }
    this.#closing = new Promise<void>((resolve) => {
      // Settles once the socket's handle is closed, not merely asked to close.
      connection.socket.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      const timer = setTimeout(
        () => this.#release(connection),
        Math.max(1, Math.floor(this.#timeoutMs / 3)),
      );
      timer.unref();
      // The server answers and closes the connection; its FIN ends the wait.
      const xid = this.#nextXid();
      this.#write(connection, new JuteWriter().int(xid).int(opCodes.closeSession).frame());
    });
    return this.#closing;
  }

  // --- connecting ---

  #connect(): void {
    this.#reconnectTimer = undefined;
    if (this.#ended) return;
    const { host, port, address } = this.#hosts.current();
    const startedAt = now();
    const socket = connectTcp({ host, port });
    socket.setNoDelay(true);
    const connection: Connection = {
      socket,
      server: address,
      packets: new PacketReader(this.#options.maxPacketBytes ?? 16 * 1024 * 1024),
      pending: [],
      pings: [],
      established: false,
      openedAt: startedAt,
      lastSend: startedAt,
      lastReceive: startedAt,
      lastPacket: startedAt,
      timer: undefined,
      timerAt: Number.POSITIVE_INFINITY,
    };
    this.#connection = connection;
    this.#logger.debug({ server: address }, "connecting to ZooKeeper");
    socket.on("connect", () => {
      if (this.#connection !== connection) return;
      // ConnectRequest: protocol version, last zxid seen, timeout, session id, password,
      // read-only (false: a server without a quorum must refuse us, not serve stale reads).
      this.#write(
        connection,
        new JuteWriter()
          .int(0)
          .long(this.#lastZxid)
          .int(this.#options.sessionTimeoutMs)
          .long(this.#sessionId)
          .buffer(this.#password)
          .bool(false)
          .frame(),
      );
    });
    socket.on("data", (chunk: Buffer) => this.#receive(connection, chunk));
    socket.on("error", (error) => this.#drop(connection, `socket error: ${error.message}`));
    socket.on("close", () => this.#drop(connection, "the server closed the connection"));
    this.#schedule(connection);
  }

  #receive(connection: Connection, chunk: Buffer): void {
    if (this.#connection !== connection) return;
    connection.lastReceive = now();
    let packets: Buffer[];
    try {
      packets = connection.packets.push(chunk);
    } catch (error) {
      this.#drop(connection, `a corrupt stream: ${(error as Error).message}`);
      return;
    }
    if (packets.length > 0) connection.lastPacket = connection.lastReceive;
    for (const packet of packets) {
      // A packet may end the connection (expiry, protocol error, close): stop there.
      if (this.#connection !== connection) return;
      try {
        if (connection.established) this.#reply(connection, new JuteReader(packet));
        else this.#handshake(connection, new JuteReader(packet));
      } catch (error) {
        this.#drop(connection, `a malformed packet: ${(error as Error).message}`);
        return;
      }
    }
  }

  #handshake(connection: Connection, reader: JuteReader): void {
    reader.int(); // protocol version
    const timeoutMs = reader.int();
    const sessionId = reader.long();
    const password = reader.buffer() ?? Buffer.alloc(0);
    if (timeoutMs <= 0) {
      this.#release(connection);
      this.#end(
        "expired",
        `ZooKeeper session 0x${this.#sessionId.toString(16)} expired (said ${connection.server})`,
      );
      return;
    }
    if (this.#sessionId !== 0n && sessionId !== this.#sessionId) {
      this.#release(connection);
      this.#end(
        "expired",
        `${connection.server} gave session 0x${sessionId.toString(16)} in place of 0x${this.#sessionId.toString(16)}`,
      );
      return;
    }
    const resumed = this.#sessionId !== 0n;
    this.#sessionId = sessionId;
    this.#password = password;
    this.#timeoutMs = timeoutMs;
    connection.established = true;
    this.#failures = 0;
    // Identities first, then the watches: the server applies them in order, so a watch on a
    // node that needs the identity is set with it.
    for (const { scheme, auth } of this.#options.auth ?? []) {
      this.#write(
        connection,
        new JuteWriter()
          .int(xids.auth)
          .int(opCodes.auth)
          .int(0)
          .string(scheme)
          .buffer(Buffer.from(auth, "utf8"))
          .frame(),
      );
    }
    this.#resetWatches(connection);
    this.#state = "connected";
    this.#logger.debug(
      { server: connection.server, sessionId: sessionId.toString(16), timeoutMs, resumed },
      resumed ? "resumed the ZooKeeper session" : "established a ZooKeeper session",
    );
    this.#schedule(connection);
    this.#emit((listener) =>
      listener.connected?.({ sessionId, timeoutMs, resumed, server: connection.server }),
    );
  }

  /** SetWatches for every watch the client holds, in packets of at most 128 KiB of paths. */
  #resetWatches(connection: Connection): void {
    const lists: Record<WatchKind, string[]> = {
      data: [...this.#watches.data.keys()].map((path) => this.#serverPath(path)),
      exist: [...this.#watches.exist.keys()].map((path) => this.#serverPath(path)),
      child: [...this.#watches.child.keys()].map((path) => this.#serverPath(path)),
    };
    while (lists.data.length + lists.exist.length + lists.child.length > 0) {
      const batch: Record<WatchKind, string[]> = { data: [], exist: [], child: [] };
      let bytes = 0;
      for (const kind of ["data", "exist", "child"] as const) {
        while (lists[kind].length > 0) {
          const path = lists[kind][0] as string;
          const size = Buffer.byteLength(path) + 4;
          if (bytes > 0 && bytes + size > setWatchesMaxBytes) break;
          batch[kind].push(path);
          lists[kind].shift();
          bytes += size;
        }
      }
      connection.pending.push({
        xid: xids.setWatches,
        operation: "setWatches",
        path: "",
        sentAt: now(),
        settle: (code) => {
          if (code !== codes.ok) {
            this.#logger.warn({ code }, "ZooKeeper refused to set the watches again");
          }
        },
      });
      this.#write(
        connection,
        new JuteWriter()
          .int(xids.setWatches)
          .int(opCodes.setWatches)
          .long(this.#lastZxid)
          .strings(batch.data)
          .strings(batch.exist)
          .strings(batch.child)
          .frame(),
      );
    }
  }

  #reply(connection: Connection, reader: JuteReader): void {
    const xid = reader.int();
    const zxid = reader.long();
    const code = reader.int();
    if (zxid > this.#lastZxid) this.#lastZxid = zxid;
    if (xid === xids.notification) {
      const type = reader.int();
      reader.int(); // the state, always "connected" for a node event
      this.#notify(type, this.#clientPath(reader.string()));
      return;
    }
    if (xid === xids.ping) {
      const sentAt = connection.pings.shift();
      if (sentAt !== undefined) this.#answered({ sentAt, operation: "ping", code });
      return;
    }
    if (xid === xids.auth) {
      if (code !== codes.ok) {
        this.#release(connection);
        this.#end("auth-failed", `ZooKeeper refused the session's credentials: ${codeText(code)}`);
      }
      return;
    }
    const pending = connection.pending.shift();
    if (pending === undefined || pending.xid !== xid) {
      this.#drop(
        connection,
        `a reply with xid ${xid} while ${pending?.xid ?? "none"} was due: replies out of order`,
      );
      return;
    }
    this.#answered({ sentAt: pending.sentAt, operation: pending.operation, code });
    pending.settle(code, reader);
    if (code === codes.sessionMoved) {
      // The session lives on another server now: this connection is stale.
      this.#drop(connection, `the session moved away from ${connection.server}`);
    }
  }

  #answered(answer: Answer): void {
    this.#emit((listener) => listener.answered?.(answer));
  }

  /**
   * Fails the connection: every request on it fails with connection loss, and the client
   * reconnects to the next server.
   */
  #drop(connection: Connection, reason: string): void {
    if (this.#connection !== connection) return;
    const wasEstablished = connection.established;
    this.#release(connection);
    this.#connection = undefined;
    this.#logger.debug({ server: connection.server, reason }, "ZooKeeper connection lost");
    if (this.#ended) return;
    this.#failPending(connection, codes.connectionLoss);
    if (wasEstablished) {
      this.#state = "connecting";
      this.#emit((listener) => listener.disconnected?.(`${connection.server}: ${reason}`));
    } else {
      this.#failures += 1;
    }
    if (this.#ended) return;
    this.#hosts.advance();
    // Ref'd: between two attempts no socket is open, and the session waits on this alone.
    this.#reconnectTimer = setTimeout(() => this.#connect(), this.#backoffMs());
  }

  /**
   * No wait while servers of the list are still untried since the last good connection;
   * then a growing, jittered pause per round, up to a second.
   */
  #backoffMs(): number {
    const round = Math.floor(this.#failures / this.#hosts.size);
    if (round === 0) return 0;
    const ceiling = Math.min(1000, 50 * 2 ** Math.min(round, 5));
    return Math.floor(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  /** Stops everything a connection holds: its socket, its bytes, its timer. */
  #release(connection: Connection): void {
    clearTimeout(connection.timer);
    connection.timer = undefined;
    connection.socket.removeAllListeners("data");
    // An error after this point must not be unhandled; nothing else listens any more.
    connection.socket.on("error", () => {});
    connection.socket.destroy();
  }

  #failPending(connection: Connection, code: number): void {
    const pending = connection.pending.splice(0);
    connection.pings.length = 0;
    const failure = new JuteReader(Buffer.alloc(0));
    for (const request of pending) request.settle(code, failure);
  }

  #end(state: EndedState, reason: string, releaseNow = true): void {
    if (this.#ended) return;
    this.#state = state;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection !== undefined) {
      if (releaseNow) this.#release(connection);
      else clearTimeout(connection.timer);
      this.#failPending(
        connection,
        state === "closed"
          ? codes.closing
          : state === "expired"
            ? codes.sessionExpired
            : codes.authFailed,
      );
    }
    this.#logger.debug({ sessionId: this.#sessionId.toString(16), state }, reason);
    const watchers = new Set<Watcher>();
    const paths = new Map<Watcher, string>();
    for (const kind of ["data", "exist", "child"] as const) {
      for (const [path, set] of this.#watches[kind]) {
        for (const watcher of set) {
          watchers.add(watcher);
          paths.set(watcher, path);
        }
      }
      this.#watches[kind].clear();
    }
    for (const watcher of watchers) this.#call(watcher, "lost", paths.get(watcher) ?? "");
    this.#emit((listener) => listener.ended?.(state, reason));
  }

  get #ended(): boolean {
    return this.#state === "expired" || this.#state === "auth-failed" || this.#state === "closed";
  }

  // --- timers ---

  /**
   * One timer per connection, set for the earliest of: the handshake deadline, the read
   * timeout, the oldest request's deadline and the next ping. Activity only moves those
   * later, so a timer that fires early just sets itself again.
   */
  #schedule(connection: Connection): void {
    const at = this.#nextDeadline(connection);
    if (connection.timer !== undefined && connection.timerAt <= at) return;
    clearTimeout(connection.timer);
    connection.timerAt = at;
    connection.timer = setTimeout(() => this.#tick(connection), Math.max(0, Math.ceil(at - now())));
    // The socket keeps the process alive while a session is open; the timer need not.
    connection.timer.unref();
  }

  #nextDeadline(connection: Connection): number {
    if (!connection.established) return connection.openedAt + this.#connectTimeoutMs();
    const readTimeout = (this.#timeoutMs * 2) / 3;
    return Math.min(
      connection.lastReceive + readTimeout,
      connection.lastSend + readTimeout / 2,
      this.#requestDeadline(connection),
    );
  }

  /**
   * When the oldest request becomes overdue: its time counts from when it was sent, or from
   * the last whole reply if that came later (it waited behind that one), and not while its
   * own reply is arriving: a large value over a slow link is governed by the read timeout.
   */
  #requestDeadline(connection: Connection): number {
    const oldest = connection.pending[0];
    if (oldest === undefined || connection.packets.buffered > 0) return Number.POSITIVE_INFINITY;
    return Math.max(oldest.sentAt, connection.lastPacket) + this.#requestTimeoutMs();
  }

  #tick(connection: Connection): void {
    connection.timer = undefined;
    connection.timerAt = Number.POSITIVE_INFINITY;
    if (this.#connection !== connection) return;
    const at = now();
    if (!connection.established) {
      if (at - connection.openedAt >= this.#connectTimeoutMs()) {
        this.#drop(
          connection,
          `no session within the connect timeout (${this.#connectTimeoutMs()} ms)`,
        );
        return;
      }
    } else {
      const readTimeout = (this.#timeoutMs * 2) / 3;
      const silentMs = at - connection.lastReceive;
      if (silentMs >= readTimeout) {
        this.#drop(
          connection,
          `nothing received for ${Math.round(silentMs)} ms, two thirds of the session timeout (${this.#timeoutMs} ms)`,
        );
        return;
      }
      const oldest = connection.pending[0];
      if (oldest !== undefined && at >= this.#requestDeadline(connection)) {
        this.#drop(
          connection,
          `${oldest.operation} ${JSON.stringify(oldest.path)} got no answer within ${this.#requestTimeoutMs()} ms`,
        );
        return;
      }
      if (at - connection.lastSend >= readTimeout / 2) {
        connection.pings.push(at);
        this.#write(connection, new JuteWriter().int(xids.ping).int(opCodes.ping).frame());
      }
    }
    this.#schedule(connection);
  }

  #connectTimeoutMs(): number {
    return (
      this.#options.connectTimeoutMs ??
      Math.max(1000, Math.floor(this.#options.sessionTimeoutMs / this.#hosts.size))
    );
  }

  #requestTimeoutMs(): number {
    return this.#options.requestTimeoutMs ?? this.#timeoutMs;
  }

  // --- requests ---

  #nextXid(): number {
    this.#xid = this.#xid >= maxXid ? 1 : this.#xid + 1;
    return this.#xid;
  }

  #write(connection: Connection, packet: Buffer): void {
    connection.lastSend = now();
    connection.socket.write(packet);
  }

  #submit<T>(
    operation: string,
    type: number,
    path: string,
    body: (writer: JuteWriter) => void,
    parse: (reader: JuteReader) => T,
    watch?: { watcher: Watcher; onOk: WatchKind; onNoNode?: WatchKind },
  ): Promise<T> {
    const connection = this.#connection;
    if (this.#ended) {
      const code =
        this.#state === "expired"
          ? codes.sessionExpired
          : this.#state === "closed"
            ? codes.closing
            : codes.authFailed;
      return Promise.reject(requestError(code, codeText(code), operation, path));
    }
    if (connection === undefined || !connection.established) {
      return Promise.reject(requestError(codes.connectionLoss, "not connected", operation, path));
    }
    let packet: Buffer;
    const xid = this.#nextXid();
    try {
      const writer = new JuteWriter().int(xid).int(type);
      body(writer);
      packet = writer.frame();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<T>((resolve, reject) => {
      connection.pending.push({
        xid,
        operation,
        path,
        sentAt: now(),
        settle: (code, reader) => {
          if (code === codes.ok) {
            let result: T;
            try {
              result = parse(reader);
            } catch (error) {
              reject(
                new ZooKeeperConnectionError(
                  `ZooKeeper ${operation} ${JSON.stringify(path)}: a malformed reply`,
                  codes.marshallingError,
                  { cause: error },
                ),
              );
              this.#drop(connection, "a malformed reply");
              return;
            }
            if (watch !== undefined) this.#register(watch.onOk, path, watch.watcher);
            resolve(result);
            return;
          }
          if (code === codes.noNode && watch?.onNoNode !== undefined) {
            this.#register(watch.onNoNode, path, watch.watcher);
          }
          reject(requestError(code, codeText(code), operation, path));
        },
      });
      this.#write(connection, packet);
      this.#schedule(connection);
    });
  }

  // --- watches ---

  #register(kind: WatchKind, path: string, watcher: Watcher): void {
    // A watch set on a connection that failed since is still set on the server, which
    // re-registers it from SetWatches; a watch of an ended session is reported lost.
    if (this.#ended) {
      this.#call(watcher, "lost", path);
      return;
    }
    let set = this.#watches[kind].get(path);
    if (set === undefined) {
      set = new Set();
      this.#watches[kind].set(path, set);
    }
    set.add(watcher);
  }

  /**
   * Removes a watcher, as it is no longer wanted. The server keeps its watch until it fires
   * or the session ends; no SetWatches names the path again once no watcher is left.
   */
  forget(path: string, watcher: Watcher): void {
    for (const kind of ["data", "exist", "child"] as const) {
      const set = this.#watches[kind].get(path);
      if (set === undefined) continue;
      set.delete(watcher);
      if (set.size === 0) this.#watches[kind].delete(path);
    }
  }

  #notify(type: number, path: string): void {
    const kinds: WatchKind[] =
      type === eventTypes.created || type === eventTypes.changed
        ? ["data", "exist"]
        : type === eventTypes.deleted
          ? ["data", "exist", "child"]
          : type === eventTypes.children
            ? ["child"]
            : [];
    const event: WatchedEventType =
      type === eventTypes.created
        ? "created"
        : type === eventTypes.deleted
          ? "deleted"
          : type === eventTypes.changed
            ? "changed"
            : "children";
    const watchers = new Set<Watcher>();
    for (const kind of kinds) {
      for (const watcher of this.#watches[kind].get(path) ?? []) watchers.add(watcher);
      this.#watches[kind].delete(path);
    }
    for (const watcher of watchers) this.#call(watcher, event, path);
  }

  #call(watcher: Watcher, event: WatchedEventType, path: string): void {
    try {
      watcher(event, path);
    } catch (error) {
      this.#logger.error({ err: error, path, event }, "a ZooKeeper watcher threw");
    }
  }

  #emit(call: (listener: ZooKeeperClientListener) => void): void {
    for (const listener of [...this.#listeners]) {
      try {
        call(listener);
      } catch (error) {
        this.#logger.error({ err: error }, "a ZooKeeper client listener threw");
      }
    }
  }

  // --- paths ---

  #serverPath(path: string): string {
    if (this.#chroot === "") return path;
    return path === "/" ? this.#chroot : `${this.#chroot}${path}`;
  }

  #clientPath(path: string): string {
    if (this.#chroot === "" || !path.startsWith(this.#chroot)) return path;
    const rest = path.slice(this.#chroot.length);
    return rest === "" ? "/" : rest;
  }
}

function normaliseChroot(chroot: string | undefined): string {
  if (chroot === undefined || chroot === "" || chroot === "/") return "";
  if (!chroot.startsWith("/") || chroot.endsWith("/")) {
    throw new TypeError(`chroot must start with "/" and not end with one, got ${chroot}`);
  }
  return chroot;
}

/** The ZooKeeper result code an error of this client carries, if any. */
export function codeOf(error: unknown): number | undefined {
  const code = (error as { zooKeeperCode?: unknown } | null)?.zooKeeperCode;
  return typeof code === "number" ? code : undefined;
}
