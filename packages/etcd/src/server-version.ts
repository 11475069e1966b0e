import type { Logger } from "@elector/core";
import type { IStatusResponse } from "etcd3";
import { callOptions } from "./client.js";

/** The part of an `Etcd3` client that asks a member for its status. */
export interface StatusClient {
  readonly maintenance: {
    status(request?: object, options?: { deadline: Date }): Promise<IStatusResponse>;
  };
}

const checked = new WeakSet<object>();
/** The version each client's server answered with. */
const versions = new WeakMap<object, string>();

/** The version the server of `client` answered with, once it did. */
export function serverVersion(client: object): string | undefined {
  return versions.get(client);
}

/**
 * Whether etcd `version` delivers every change of a watcher, in order, even when its stream
 * was starved and the store compacted meanwhile. Older servers can drop such a watcher's
 * changes: etcd-io/etcd#17529 (a starved watcher caught up across a compaction, fixed in
 * 3.5.13) and etcd-io/etcd#18089 (a delete at exactly the compacted revision, fixed in
 * 3.5.16). The releases of their 3.4 backports could not be confirmed, so no 3.4 counts.
 * (etcd-io/etcd#19179 needs a restart of the member, which breaks every watch on it.)
 */
export function keepsWatchOrder(version: string): boolean {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (match === null) return false;
  const [major, minor, patch] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (major !== 3) return major > 3;
  if (minor === 5) return patch >= 16;
  return minor > 5;
}

/**
 * Whether etcd `version` revokes live leases when a raft leader that stalled past their TTL
 * wakes up (etcd-io/etcd#15247, fixed by #16822 in 3.4.28 and 3.5.10). Such a revoke deletes a
 * leader's key while its keep-alives are answered: the elector sees it through the own key's
 * watch, only a few milliseconds ahead of the successor.
 */
export function revokesLiveLeases(version: string): boolean {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (match === null) return false;
  const [major, minor, patch] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (major !== 3) return major < 3;
  if (minor < 4) return true;
  if (minor === 4) return patch < 28;
  if (minor === 5) return patch < 10;
  return false;
}

/**
 * Asks the server for its version, once per client, and logs a warning naming
 * etcd-io/etcd#15247 if it is affected. Never throws: a server that does not answer is only
 * logged at debug level (the campaign reports the connection).
 */
export function checkServerVersion(client: StatusClient, logger: Logger, timeoutMs: number): void {
  if (checked.has(client)) return;
  checked.add(client);
  client.maintenance.status({}, callOptions(timeoutMs)).then(
    ({ version }) => {
      versions.set(client, version);
      if (!revokesLiveLeases(version)) {
        logger.debug({ etcdVersion: version }, "etcd server version");
        return;
      }
      logger.warn(
        { etcdVersion: version },
        `etcd ${version} can revoke live leases when a raft leader that stalled past their TTL wakes up (etcd-io/etcd#15247, fixed in 3.4.28 and 3.5.10): a leader can be deposed without warning; upgrade etcd`,
      );
    },
    (error: unknown) => {
      // Asked again on the next elector made on this client.
      checked.delete(client);
      logger.debug({ err: error }, "could not read the etcd server's version");
    },
  );
}
