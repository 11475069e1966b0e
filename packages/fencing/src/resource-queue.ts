/**
 * @internal One holder per resource at a time, in arrival order: what keeps a resource
 * server's admission and the write that follows it from interleaving with another writer's.
 */
export class ResourceQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /** Resolves, in arrival order, with a function that lets the next holder in. */
  async acquire(resource: string): Promise<() => void> {
    const previous = this.#tails.get(resource) ?? Promise.resolve();
    let open: () => void = () => {};
    const mine = new Promise<void>((resolve) => {
      open = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(resource, tail);
    await previous;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      open();
      // The last holder leaves no entry behind, so idle resources cost nothing.
      if (this.#tails.get(resource) === tail) this.#tails.delete(resource);
    };
  }

  /** How many resources have a holder or a waiter. */
  get size(): number {
    return this.#tails.size;
  }
}
