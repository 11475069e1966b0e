import { InvalidFencingOptionError, StaleLeaderError } from "./errors.js";
import type { EtcdClient, EtcdOperation, EtcdTxnResponse } from "./etcd-client.js";
import { storeCall } from "./etcd-fence.js";
import { abortable, checkSignal, type FenceCallOptions } from "./fence.js";
import { FencingToken } from "./token.js";

/** Names the leader's key itself, when the caller knows it. */
export interface LeaderKeyGuard {
  /** The leader's key, for example `billing-cron/694d81a3c2b4e10f`. */
  readonly key: string;
  /** The leader's fencing token: the key's create revision. */
  readonly token: bigint;
}

/**
 * Names the election's key prefix; the guard finds the candidate key created at `token`
 * first. In the Go layout that the etcd backend uses, candidate keys are
 * `<prefix>/<election>/<lease hex>`, or `<election>/<lease hex>` with the default prefix, so
 * `keyPrefix` is `"<election>/"` and must end with `/`.
 */
export interface LeaderPrefixGuard {
  /** The prefix of the election's candidate keys, ending with `/`. */
  readonly keyPrefix: string;
  /** The leader's fencing token: the create revision of its key. */
  readonly token: bigint;
}

/**
 * Which term of leadership must still hold for a {@link guardedTxn} to apply. The token is
 * the create revision of the leader's key in etcd, which is what `leadership.token` is on
 * the etcd backend.
 */
export type LeaderGuard = LeaderKeyGuard | LeaderPrefixGuard;

/** Options of {@link guardedTxn}. */
export type GuardedTxnOptions = FenceCallOptions;

/**
 * Applies `operations` to etcd in one transaction, only if the leader's key still exists
 * with the leader's token as its create revision: only while that term of leadership holds
 * on the server. A leader that was deposed while paused cannot write, however late its
 * request arrives, because its key went with its lease.
 *
 * This is the guarded write on the coordination store itself; for data that lives elsewhere,
 * use a {@link Fence}. On ZooKeeper, `ZooKeeperElector.guardedMulti` of `@elector/zookeeper` is
 * the same guard: one `multi` with a check of the leader's node.
 *
 * @param client the etcd3 client or namespace that the election's keys are visible through.
 * @returns the transaction's response; `responses` holds one entry per operation, in order.
 * @throws StaleLeaderError if the term has ended; no operation was applied.
 * @throws InvalidFencingTokenError if `guard.token` is not a fencing token.
 * @throws FenceStoreError if etcd failed to answer; the transaction may have been applied.
 *
 * @example
 * ```ts
 * await guardedTxn(client, { keyPrefix: "billing-cron/", token: leadership.token }, [
 *   client.put("billing/last-run").value(new Date().toISOString()),
 * ]);
 * ```
 */
export async function guardedTxn(
  client: EtcdClient,
  guard: LeaderGuard,
  operations: readonly EtcdOperation[],
  options: GuardedTxnOptions = {},
): Promise<EtcdTxnResponse> {
  if (typeof client !== "object" || client === null || typeof client.if !== "function") {
    throw new InvalidFencingOptionError("client", client, "an etcd3 client (Etcd3 or Namespace)");
  }
  if (typeof guard !== "object" || guard === null) {
    throw new InvalidFencingOptionError("guard", guard, "{ key, token } or { keyPrefix, token }");
  }
  const token = FencingToken.check(guard.token, "guard.token");
  if (!Array.isArray(operations)) {
    throw new InvalidFencingOptionError("operations", operations, "an array of etcd operations");
  }
  const signal = checkSignal(options);
  const key = await abortable(leaderKey(client, guard, token), signal);
  const response = await abortable(
    storeCall(`applying a write guarded by ${JSON.stringify(key)}`, () =>
      client
        .if(key, "Create", "==", token.toString())
        .then(...operations)
        .else(client.get(key))
        .commit(),
    ),
    signal,
  );
  if (response.succeeded) return response;
  const found = response.responses[0]?.response_range?.kvs[0];
  throw new StaleLeaderError(
    key,
    token,
    found === undefined ? undefined : BigInt(found.create_revision),
    found === undefined
      ? `the leader key ${JSON.stringify(key)} no longer exists`
      : `the key ${JSON.stringify(key)} now has create revision ${found.create_revision}`,
  );
}

async function leaderKey(client: EtcdClient, guard: LeaderGuard, token: bigint): Promise<string> {
  if ("key" in guard) {
    if (typeof guard.key !== "string" || guard.key.length === 0) {
      throw new InvalidFencingOptionError("guard.key", guard.key, "a non-empty string");
    }
    return guard.key;
  }
  const { keyPrefix } = guard;
  if (typeof keyPrefix !== "string" || keyPrefix.length === 0) {
    throw new InvalidFencingOptionError("guard.keyPrefix", keyPrefix, "a non-empty string");
  }
  const found = await storeCall(`finding the leader key under ${JSON.stringify(keyPrefix)}`, () =>
    client
      .getAll()
      .prefix(keyPrefix)
      .minCreateRevision(token.toString())
      .maxCreateRevision(token.toString())
      .exec(),
  );
  const kv = found.kvs[0];
  if (kv === undefined) {
    throw new StaleLeaderError(
      keyPrefix,
      token,
      undefined,
      `no key under ${JSON.stringify(keyPrefix)} has create revision ${token}`,
    );
  }
  return kv.key.toString();
}
