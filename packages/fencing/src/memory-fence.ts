import { StaleTokenError } from "./errors.js";
import { checkResource, checkSignal, type Fence, type FenceCallOptions } from "./fence.js";
import { FencingToken } from "./token.js";

/**
 * A {@link Fence} kept in this process's memory: right for a resource that one process owns
 * (a file, an in-process cache, a single-instance service), and for tests. Admission is
 * synchronous, so it is trivially atomic. The high-water marks are lost when the process
 * exits, so a restarted resource server would admit a deposed leader once: use
 * {@link EtcdFence} or {@link PostgresFence} when that matters.
 *
 * @example
 * ```ts
 * const fence = new MemoryFence();
 * await fence.admit("report.csv", leadership.token); // throws StaleTokenError when deposed
 * ```
 */
export class MemoryFence implements Fence {
  readonly #highest = new Map<string, bigint>();

  /**
   * @throws StaleTokenError if a higher token was admitted for `resource`.
   * @throws InvalidFencingTokenError if `token` is not a fencing token.
   */
  async admit(resource: string, token: bigint, options?: FenceCallOptions): Promise<void> {
    this.admitNow(resource, token, options);
  }

  /**
   * {@link admit}, synchronously: the check and whatever the caller does right after it in the
   * same synchronous block cannot interleave with another admission.
   *
   * @throws StaleTokenError if a higher token was admitted for `resource`.
   */
  admitNow(resource: string, token: bigint, options?: FenceCallOptions): void {
    checkResource(resource);
    FencingToken.check(token);
    checkSignal(options);
    const highest = this.#highest.get(resource);
    if (highest !== undefined && token < highest) {
      throw new StaleTokenError(resource, token, highest);
    }
    this.#highest.set(resource, token);
  }

  async highest(resource: string, options?: FenceCallOptions): Promise<bigint | undefined> {
    checkResource(resource);
    checkSignal(options);
    return this.#highest.get(resource);
  }
}
