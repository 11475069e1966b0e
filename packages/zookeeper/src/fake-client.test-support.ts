// A stand-in for the protocol client in unit tests: it answers nothing by itself. A test sees
// each request, answers it with any result code, and fires connection events, so that every
// order of answers and events can be reproduced exactly. Not part of the package's output.
import { now } from "@elector/core/backend";
import { requestError } from "./errors.js";
import type {
  ConnectedInfo,
  WatchedEventType,
  Watcher,
  ZooKeeperClientListener,
  ZooKeeperClientOptions,
} from "./protocol/client.js";
import { codes, codeText } from "./protocol/codes.js";
import type { CreateMode, Op, Stat } from "./protocol/records.js";
import type { ClientFactory, NodeStat, SessionClient } from "./session.js";

/** The operations a {@link FakeClient} records, by the names tests use. */
type Operation = "create" | "get" | "exists" | "list" | "set" | "delete" | "sync" | "multi";

const protocolName: Record<Operation, string> = {
  create: "create",
  get: "getData",
  exists: "exists",
  list: "getChildren",
  set: "setData",
  delete: "delete",
  sync: "sync",
  multi: "multi",
};

/** One request a {@link FakeClient} received. */
export interface FakeRequest {
  readonly operation: Operation;
  readonly path: string;
  readonly watcher: Watcher | undefined;
  /** A create's mode. */
  readonly mode: CreateMode | undefined;
  /** The data of a setData, as UTF-8. */
  readonly data?: string | undefined;
  readonly ops: readonly Op[] | undefined;
  /**
   * Settles the request as the client would for `code`: with ok, the result is built from
   * `result` (create: path; get: stat, data; exists and set: stat; list: children).
   */
  answer(code: number, ...result: unknown[]): void;
}

/** A fake client; see the file comment. */
export class FakeClient implements SessionClient {
  readonly options: ZooKeeperClientOptions;
  readonly requests: FakeRequest[] = [];
  sessionId = 0n;
  sessionPassword = Buffer.alloc(16, 0xcd);
  started = false;
  closed = false;
  /** When set, every request fails at once with this code (not connected, say). */
  failWith: number | undefined;
  readonly #listeners = new Set<ZooKeeperClientListener>();

  constructor(options: ZooKeeperClientOptions) {
    this.options = options;
  }

  subscribe(listener: ZooKeeperClientListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    this.started = true;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.#emit((listener) => listener.ended?.("closed", "the client was closed"));
    }
    return Promise.resolve();
  }

  /** The server accepted (or resumed) the session `id` (hex). */
  connect(id: string, timeoutMs: number, server = "zk1:2181"): void {
    const resumed = this.sessionId !== 0n;
    this.sessionId = BigInt(`0x${id}`);
    const info: ConnectedInfo = { sessionId: this.sessionId, timeoutMs, resumed, server };
    this.#emit((listener) => listener.connected?.(info));
  }

  /** The connection dropped; the client reconnects. */
  dropConnection(reason = "the server closed the connection"): void {
    this.#emit((listener) => listener.disconnected?.(reason));
  }

  /** A server said the session expired. */
  expire(): void {
    this.closed = true;
    this.#emit((listener) => listener.ended?.("expired", "the session expired"));
  }

  /** The oldest unanswered request of `operation`. */
  next(operation: Operation): FakeRequest {
    const found = this.requests.find((request) => request.operation === operation);
    if (found === undefined) {
      throw new Error(
        `no ${operation} request; saw ${this.requests.map((r) => r.operation).join(", ")}`,
      );
    }
    return found;
  }

  forget(): void {}

  create(path: string, _data: Buffer, mode: CreateMode = "persistent"): Promise<string> {
    return this.#record("create", path, { mode }, (created) => created as string);
  }
  delete(path: string): Promise<void> {
    return this.#record("delete", path, {}, () => undefined);
  }
  exists(path: string, watcher?: Watcher): Promise<Stat | undefined> {
    return this.#record("exists", path, { watcher }, (stat) => wireStat(stat as NodeStat));
  }
  getData(path: string, watcher?: Watcher) {
    return this.#record("get", path, { watcher }, (stat, data) => ({
      stat: wireStat(stat as NodeStat),
      data: (data as Buffer | undefined) ?? Buffer.alloc(0),
    }));
  }
  getChildren(path: string, watcher?: Watcher) {
    return this.#record("list", path, { watcher }, (children) => ({
      children: (children as string[] | undefined) ?? [],
      stat: wireStat(fakeStat()),
    }));
  }
  setData(path: string, data: Buffer): Promise<Stat> {
    return this.#record("set", path, { data: data.toString("utf8") }, (stat) =>
      wireStat(stat as NodeStat),
    );
  }
  sync(path: string): Promise<void> {
    return this.#record("sync", path, {}, () => undefined);
  }
  multi(ops: readonly Op[]) {
    return this.#record("multi", ops[0]?.path ?? "/", { ops }, () => []);
  }

  #record<T>(
    operation: Operation,
    path: string,
    extra: {
      watcher?: Watcher | undefined;
      mode?: CreateMode;
      ops?: readonly Op[];
      data?: string;
    },
    build: (...result: unknown[]) => T,
  ): Promise<T> {
    const name = protocolName[operation];
    if (this.failWith !== undefined) {
      return Promise.reject(requestError(this.failWith, codeText(this.failWith), name, path));
    }
    const sentAt = now();
    return new Promise<T>((resolve, reject) => {
      const request: FakeRequest = {
        operation,
        path,
        watcher: extra.watcher,
        mode: extra.mode,
        ops: extra.ops,
        data: extra.data,
        answer: (code, ...result) => {
          this.requests.splice(this.requests.indexOf(request), 1);
          if (code !== codes.connectionLoss && code !== codes.sessionExpired) {
            this.#emit((listener) => listener.answered?.({ sentAt, operation: name, code }));
          }
          if (code === codes.ok) resolve(build(...result));
          else if (code === codes.noNode && operation === "exists") resolve(undefined as T);
          else reject(requestError(code, codeText(code), name, path));
        },
      };
      this.requests.push(request);
    });
  }

  #emit(call: (listener: ZooKeeperClientListener) => void): void {
    for (const listener of [...this.#listeners]) call(listener);
  }
}

/** A client factory whose every client is a {@link FakeClient}, kept in `clients` in order. */
export function fakeClients(): { createClient: ClientFactory; clients: FakeClient[] } {
  const clients: FakeClient[] = [];
  return {
    createClient: (options) => {
      const client = new FakeClient(options);
      clients.push(client);
      return client;
    },
    clients,
  };
}

/** Fires a watch as the client does: once, with the event. */
export function fire(request: FakeRequest, event: WatchedEventType): void {
  request.watcher?.(event, request.path);
}

/** A stat for answers; `czxid` may be given as a number. */
export function fakeStat(
  fields: Partial<Omit<NodeStat, "czxid">> & { czxid?: number | bigint } = {},
): NodeStat {
  const { czxid, ...rest } = fields;
  return {
    czxid: BigInt(czxid ?? 42),
    mzxid: 42n,
    version: 0,
    cversion: 0,
    dataLength: 0,
    numChildren: 0,
    ephemeralOwner: "0",
    ...rest,
  };
}

function wireStat(stat: NodeStat): Stat {
  return {
    czxid: stat.czxid,
    mzxid: stat.mzxid,
    ctime: 0n,
    mtime: 0n,
    version: stat.version,
    cversion: stat.cversion,
    aversion: 0,
    ephemeralOwner: BigInt(`0x${stat.ephemeralOwner}`),
    dataLength: stat.dataLength,
    numChildren: stat.numChildren,
    pzxid: 0n,
  };
}
