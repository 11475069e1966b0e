import {
  FenceStoreError,
  InvalidFencingOptionError,
  isFencingError,
  StaleTokenError,
} from "./errors.js";
import type { EtcdClient, EtcdKeyValue, EtcdOperation } from "./etcd-client.js";
import {
  abortable,
  checkResource,
  checkSignal,
  type Fence,
  type FenceCallOptions,
} from "./fence.js";
import { FencingToken } from "./token.js";

/** Options of {@link EtcdFence}. */
export interface EtcdFenceOptions {
  /**
   * The key prefix of the high-water marks: resource `orders` is kept at `<prefix>orders`.
   * Every resource server that guards the same resources must use the same prefix.
   *
   * @defaultValue `"elector/fences/"`
   */
  readonly prefix?: string;
}

/** Options of {@link EtcdFence.admit}. */
export interface EtcdAdmitOptions extends FenceCallOptions {
  /**
   * Operations applied in the same etcd transaction as the admission, and only if the token
   * is admitted: the resource's own write, when its data lives in etcd, commits with the
   * check or not at all. Build them on the same client, for example
   * `client.put("orders/42").value(body)`.
   */
  readonly operations?: readonly EtcdOperation[];
}

// Values are compared as bytes by etcd: zero-padded to the width of 2^63 − 1, decimal order
// and byte order agree, so one comparison in the transaction decides.
const width = FencingToken.MAX.toString().length;
const padded = /^[0-9]+$/;

/**
 * A {@link Fence} whose high-water marks live in etcd: correct with many resource servers,
 * since each admission is one etcd transaction that compares the stored mark with the token
 * and sets it in the same step. One round trip per admission, no retry loop.
 *
 * The mark of a resource is a key holding the highest admitted token in decimal, zero-padded
 * to 19 digits. The key belongs to the fence: do not write it otherwise.
 *
 * @example
 * ```ts
 * const fence = new EtcdFence(new Etcd3({ hosts: "etcd:2379" }));
 * await fence.admit("orders", token, {
 *   operations: [client.put("orders/42").value(body)], // applied only if admitted
 * });
 * ```
 */
export class EtcdFence implements Fence {
  /** The key prefix of the high-water marks. */
  readonly prefix: string;
  readonly #client: EtcdClient;

  /** @throws InvalidFencingOptionError if `client` or an option is wrong. */
  constructor(client: EtcdClient, options: EtcdFenceOptions = {}) {
    if (typeof client !== "object" || client === null || typeof client.if !== "function") {
      throw new InvalidFencingOptionError("client", client, "an etcd3 client (Etcd3 or Namespace)");
    }
    const prefix = options.prefix ?? "elector/fences/";
    if (typeof prefix !== "string") {
      throw new InvalidFencingOptionError("prefix", prefix, "a string");
    }
    this.#client = client;
    this.prefix = prefix;
  }

  /** The etcd key that holds the high-water mark of `resource`. */
  keyOf(resource: string): string {
    return `${this.prefix}${checkResource(resource)}`;
  }

  /**
   * Admits `token` for `resource` if no higher token was admitted, in one etcd transaction
   * that also applies `options.operations`.
   *
   * @throws StaleTokenError if a higher token was admitted; the operations were not applied.
   * @throws InvalidFencingTokenError if `token` is not a fencing token.
   * @throws FenceStoreError if etcd failed to answer; the transaction may have been applied.
   */
  async admit(resource: string, token: bigint, options: EtcdAdmitOptions = {}): Promise<void> {
    const key = this.keyOf(resource);
    FencingToken.check(token);
    const signal = checkSignal(options);
    const operations = options.operations ?? [];
    if (!Array.isArray(operations)) {
      throw new InvalidFencingOptionError("operations", operations, "an array of etcd operations");
    }
    const client = this.#client;
    const mark = token.toString().padStart(width, "0");
    const response = await abortable(
      storeCall(`admitting token ${token} for resource ${JSON.stringify(resource)}`, () =>
        // A missing key fails a Value comparison, so "absent" takes the admitting branch too.
        client
          .if(key, "Value", ">", mark)
          .then(client.get(key))
          .else(client.put(key).value(mark), ...operations)
          .commit(),
      ),
      signal,
    );
    if (!response.succeeded) return;
    const stored = response.responses[0]?.response_range?.kvs[0];
    throw new StaleTokenError(resource, token, readMark(key, stored));
  }

  async highest(resource: string, options?: FenceCallOptions): Promise<bigint | undefined> {
    const key = this.keyOf(resource);
    const signal = checkSignal(options);
    const client = this.#client;
    const response = await abortable(
      storeCall(`reading the fence of resource ${JSON.stringify(resource)}`, () =>
        client.get(key).exec(),
      ),
      signal,
    );
    const stored = response.kvs[0];
    return stored === undefined ? undefined : readMark(key, stored);
  }
}

function readMark(key: string, stored: EtcdKeyValue | undefined): bigint {
  const text = stored?.value.toString();
  if (
    text === undefined ||
    text.length !== width ||
    !padded.test(text) ||
    !FencingToken.is(BigInt(text))
  ) {
    throw new FenceStoreError(
      `the etcd key ${JSON.stringify(key)} does not hold a fence high-water mark (got ${JSON.stringify(text?.slice(0, 40))}); it belongs to the fence and must not be written otherwise`,
      { retryable: false },
    );
  }
  return BigInt(text);
}

/** @internal Runs one etcd request, wrapping its failure in a {@link FenceStoreError}. */
export async function storeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isFencingError(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new FenceStoreError(`etcd failed while ${what}: ${message}`, { cause: error });
  }
}
