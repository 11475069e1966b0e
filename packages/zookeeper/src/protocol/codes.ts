// Numbers of ZooKeeper's wire protocol (ZooDefs.OpCode, KeeperException.Code, Watcher.Event).

/** Request types. */
export const opCodes = Object.freeze({
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getChildren2: 12,
  sync: 9,
  ping: 11,
  check: 13,
  multi: 14,
  create2: 15,
  createContainer: 19,
  auth: 100,
  setWatches: 101,
  closeSession: -11,
  /** The type of a multi header that ends the list, and of a failed op's result. */
  error: -1,
});

/** Reserved xids: replies with these never answer a request of the pending queue. */
export const xids = Object.freeze({
  notification: -1,
  ping: -2,
  auth: -4,
  setWatches: -8,
});

/** Result codes, as the server sends them (the C client uses the same numbers). */
export const codes = Object.freeze({
  ok: 0,
  systemError: -1,
  runtimeInconsistency: -2,
  dataInconsistency: -3,
  connectionLoss: -4,
  marshallingError: -5,
  unimplemented: -6,
  operationTimeout: -7,
  badArguments: -8,
  unknownSession: -12,
  apiError: -100,
  noNode: -101,
  noAuth: -102,
  badVersion: -103,
  noChildrenForEphemerals: -108,
  nodeExists: -110,
  notEmpty: -111,
  sessionExpired: -112,
  invalidCallback: -113,
  invalidAcl: -114,
  authFailed: -115,
  closing: -116,
  nothing: -117,
  sessionMoved: -118,
  notReadOnly: -119,
  requestTimeout: -122,
  quotaExceeded: -125,
  throttled: -127,
});

const codeNames = new Map<number, string>([
  [codes.ok, "ok"],
  [codes.systemError, "system error"],
  [codes.runtimeInconsistency, "runtime inconsistency"],
  [codes.dataInconsistency, "data inconsistency"],
  [codes.connectionLoss, "connection loss"],
  [codes.marshallingError, "marshalling error"],
  [codes.unimplemented, "unimplemented"],
  [codes.operationTimeout, "operation timeout"],
  [codes.badArguments, "bad arguments"],
  [codes.unknownSession, "unknown session"],
  [codes.apiError, "api error"],
  [codes.noNode, "no node"],
  [codes.noAuth, "not authenticated"],
  [codes.badVersion, "bad version"],
  [codes.noChildrenForEphemerals, "no children for ephemerals"],
  [codes.nodeExists, "node exists"],
  [codes.notEmpty, "not empty"],
  [codes.sessionExpired, "session expired"],
  [codes.invalidCallback, "invalid callback"],
  [codes.invalidAcl, "invalid acl"],
  [codes.authFailed, "authentication failed"],
  [codes.closing, "closing"],
  [codes.nothing, "no server responses to process"],
  [codes.sessionMoved, "session moved"],
  [codes.notReadOnly, "not a read-only call"],
  [codes.requestTimeout, "request timeout"],
  [codes.quotaExceeded, "quota exceeded"],
  [codes.throttled, "throttled"],
]);

/** A code's name, as ZooKeeper's clients print it ("no node"). */
export function codeText(code: number): string {
  return codeNames.get(code) ?? `error ${code}`;
}

/** Create modes (`CreateMode` flags). */
export const createModes = Object.freeze({
  persistent: 0,
  ephemeral: 1,
  persistentSequential: 2,
  ephemeralSequential: 3,
  container: 4,
});

/** Watch event types (`Watcher.Event.EventType`). */
export const eventTypes = Object.freeze({
  none: -1,
  created: 1,
  deleted: 2,
  changed: 3,
  children: 4,
});

/** Permission bits of an ACL entry. */
export const perms = Object.freeze({ read: 1, write: 2, create: 4, delete: 8, admin: 16, all: 31 });
