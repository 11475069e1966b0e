// The part of the `zookeeper` npm package (a native binding to ZooKeeper's C client) that this
// backend uses, typed here: the package's own declarations are mostly `any`, and none of its
// types may cross the Elector interface. We use its callback layer (`a_*`, `aw_*`) rather
// than its promise layer, whose errors are strings such as "-101 no node": callbacks hand
// us the numeric return code, and a negative synchronous return value (a request that was
// never queued) can be told apart from a server's answer.
import { createRequire } from "node:module";
import { BackendError } from "@elector/core";

/** A znode's `Stat`, as the binding builds it. */
export interface NativeStat {
  /**
   * The zxid of the create, as a JavaScript number: the binding converts the C client's
   * int64 with `Nan::New<Number>`, so it is exact only below 2^53.
   */
  readonly czxid: number;
  readonly mzxid: number;
  readonly version: number;
  readonly dataLength: number;
  readonly numChildren: number;
  /** The owning session's id in lowercase hex without leading zeros, `"0"` if persistent. */
  readonly ephemeralOwner: string;
}

/** `(type, state, path)`; session events (`type` -1) reach every registered watcher too. */
export type NativeWatcher = (type: number, state: number, path: string) => void;

/** One handle of the C client: one TCP connection at a time, one session. */
export interface NativeClient {
  init(config: Record<string, unknown>): NativeClient;
  close(): void;
  on(event: "connect" | "connecting", listener: () => void): void;
  on(event: "close", listener: (client: unknown, code: number) => void): void;
  a_create(
    path: string,
    data: string | Buffer,
    flags: number,
    callback: (rc: number, message: string, path: string) => void,
  ): number;
  aw_get(
    path: string,
    watcher: NativeWatcher,
    callback: (rc: number, message: string, stat: NativeStat | null, data: Buffer | null) => void,
  ): number;
  a_get(
    path: string,
    watch: boolean,
    callback: (rc: number, message: string, stat: NativeStat | null, data: Buffer | null) => void,
  ): number;
  a_exists(
    path: string,
    watch: boolean,
    callback: (rc: number, message: string, stat: NativeStat | null) => void,
  ): number;
  aw_exists(
    path: string,
    watcher: NativeWatcher,
    callback: (rc: number, message: string, stat: NativeStat | null) => void,
  ): number;
  a_get_children(
    path: string,
    watch: boolean,
    callback: (rc: number, message: string, children: string[] | null) => void,
  ): number;
  aw_get_children(
    path: string,
    watcher: NativeWatcher,
    callback: (rc: number, message: string, children: string[] | null) => void,
  ): number;
  a_set(
    path: string,
    data: string | Buffer,
    version: number,
    callback: (rc: number, message: string, stat: NativeStat | null) => void,
  ): number;
  a_delete_(path: string, version: number, callback: (rc: number, message: string) => void): number;
  a_sync(path: string, callback: (rc: number, message: string, path: string) => void): number;
  /** The session id in hex; `"0"` before the first connection. */
  readonly client_id: string;
  /** The session password in hex (32 characters). */
  readonly client_password: string;
  /** The negotiated session timeout in milliseconds; -1 after close. */
  readonly timeout: number;
  /** The C client's state: see {@link states}. */
  readonly state: number;
}

type NativeClientClass = new (config: Record<string, unknown>) => NativeClient;

/** Return codes of the C client (`ZOK`, `ZNONODE`, …), from zookeeper.h. */
export const rc = Object.freeze({
  ok: 0,
  systemError: -1,
  connectionLoss: -4,
  marshallingError: -5,
  operationTimeout: -7,
  badArguments: -8,
  invalidState: -9,
  noNode: -101,
  noAuth: -102,
  badVersion: -103,
  noChildrenForEphemerals: -108,
  nodeExists: -110,
  notEmpty: -111,
  sessionExpired: -112,
  authFailed: -115,
  closing: -116,
  nothing: -117,
  sessionMoved: -118,
});

/** Watch event types. */
export const events = Object.freeze({
  created: 1,
  deleted: 2,
  changed: 3,
  child: 4,
  session: -1,
  notWatching: -2,
});

/** Values of `client.state` and of the code that `close` events carry. */
export const states = Object.freeze({
  expired: -112,
  authFailed: -113,
  connecting: 1,
  associating: 2,
  connected: 3,
});

/** Create flags. */
export const createFlags = Object.freeze({ persistent: 0, ephemeralSequential: 3, container: 4 });

let loaded: NativeClientClass | undefined;

/**
 * Loads the binding once. Its addon is compiled at install time; when that was skipped the
 * error says how to fix it.
 *
 * @throws BackendError if the native addon does not load.
 */
export function loadBinding(): NativeClientClass {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(import.meta.url)("zookeeper") as NativeClientClass;
  } catch (error) {
    throw new BackendError(
      "the zookeeper package's native addon does not load; allow its build (pnpm: onlyBuiltDependencies) and run `pnpm rebuild zookeeper`",
      { cause: error },
    );
  }
  return loaded;
}

/**
 * Whether `code` is an answer the server gave (a success or a refusal such as "no node"),
 * as opposed to a failure of the connection or of the handle.
 */
export function isServerAnswer(code: number): boolean {
  return (
    code === rc.ok ||
    code === rc.noNode ||
    code === rc.noAuth ||
    code === rc.badVersion ||
    code === rc.noChildrenForEphemerals ||
    code === rc.nodeExists ||
    code === rc.notEmpty
  );
}
