import { BackendError, ConnectionError } from "@elector/core";
import { codes } from "./protocol/codes.js";

// The codes after which the same request may succeed on the same or a later session.
const transient = new Set<number>([
  codes.connectionLoss,
  codes.operationTimeout,
  codes.requestTimeout,
  codes.closing,
  codes.nothing,
  codes.sessionMoved,
  codes.sessionExpired,
]);

/**
 * A request that failed for a reason of the connection or session (`ZCONNECTIONLOSS`,
 * `ZSESSIONEXPIRED`, a closed handle): retryable. ZooKeeper's result code is kept.
 */
export class ZooKeeperConnectionError extends ConnectionError {
  /** ZooKeeper's result code, for example -4 for `ZCONNECTIONLOSS`. */
  readonly zooKeeperCode: number;

  constructor(message: string, zooKeeperCode: number, options: { cause?: unknown } = {}) {
    super(message, options);
    this.zooKeeperCode = zooKeeperCode;
  }
}

/** A request the server refused (`ZNONODE`, `ZNOAUTH`, …). ZooKeeper's result code is kept. */
export class ZooKeeperRequestError extends BackendError {
  /** ZooKeeper's result code, for example -101 for `ZNONODE`. */
  readonly zooKeeperCode: number;

  constructor(message: string, zooKeeperCode: number) {
    super(message);
    this.zooKeeperCode = zooKeeperCode;
  }
}

/**
 * A campaign's node got a sequence number past the last usable one: the election node's child
 * counter (an int32 cversion) stopped at 2^31 - 1, so names no longer order the line, and a
 * candidate never leads on such a node. Its node was deleted. Once the election node is empty,
 * the next campaign deletes and re-creates it, which restarts the counter at 0: retrying
 * (as `lead()` does) succeeds once the candidates in line now have left.
 */
export class ZooKeeperSequenceExhaustedError extends BackendError {
  /** Always `"ZooKeeperSequenceExhaustedError"`. */
  override readonly name: string = "ZooKeeperSequenceExhaustedError";
  /** The election node, for example `/elector/billing-cron`. */
  readonly electionPath: string;
  /** The sequence the server gave: 2147483647, or negative once it wrapped around. */
  readonly sequence: number;

  constructor(electionPath: string, sequence: number) {
    super(
      `the election node ${JSON.stringify(electionPath)} has used up its sequence numbers (the server named a new candidate node with ${sequence}; the last usable one is 2147483646), so new candidates cannot be ordered: the node was deleted, and the election node is re-created once the candidates in line now have left`,
      { retryable: true },
    );
    this.electionPath = electionPath;
    this.sequence = sequence;
  }
}

/**
 * A guarded write ({@link ZooKeeperElector.guardedMulti}) that ZooKeeper refused because the
 * leader's node is gone: the term no longer holds on the server, and none of the write's
 * operations was applied.
 */
export class ZooKeeperStaleLeaderError extends BackendError {
  /** Always `"ZooKeeperStaleLeaderError"`. */
  override readonly name: string = "ZooKeeperStaleLeaderError";
  /** The leader's node, which the write's check found gone. */
  readonly path: string;
  /** The term's fencing token (the node's czxid). */
  readonly token: bigint;

  constructor(path: string, token: bigint, options: { cause?: unknown } = {}) {
    super(
      `the leader's node ${JSON.stringify(path)} (token ${token}) is gone: ZooKeeper applied none of the guarded write`,
      options,
    );
    this.path = path;
    this.token = token;
  }
}

/**
 * The typed error for a failed request: `code` and `text` are ZooKeeper's result code and its name
 * (`-101`, `"no node"`); the message names the operation and the path.
 */
export function requestError(
  code: number,
  text: string,
  operation: string,
  path: string,
): ZooKeeperConnectionError | ZooKeeperRequestError {
  const message = `ZooKeeper ${operation} ${JSON.stringify(path)} failed: ${code} ${text}`;
  return transient.has(code)
    ? new ZooKeeperConnectionError(message, code)
    : new ZooKeeperRequestError(message, code);
}

/** ZooKeeper's result code carried by `error`, if it is one of ours. */
export function zooKeeperCode(error: unknown): number | undefined {
  return error instanceof ZooKeeperConnectionError || error instanceof ZooKeeperRequestError
    ? error.zooKeeperCode
    : undefined;
}

/** Whether `error` says the node does not exist. */
export function isNoNode(error: unknown): boolean {
  return zooKeeperCode(error) === codes.noNode;
}

/** Whether `error` says the node already exists. */
export function isNodeExists(error: unknown): boolean {
  return zooKeeperCode(error) === codes.nodeExists;
}
