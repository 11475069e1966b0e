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
