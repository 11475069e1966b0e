import type { LeaderListener } from "./driver.js";
import type { LeaderInfo } from "./elector.js";

/**
 * The iterator that `observe()` returns: a queue between a driver's leader watch and the
 * app's `for await`. It drops repeats, keeps every other change in order however slowly the
 * app reads, and ends when its signal aborts.
 */
export class LeaderFeed implements LeaderListener, AsyncIterableIterator<LeaderInfo | undefined> {
  readonly #queue: (LeaderInfo | undefined)[] = [];
  readonly #waiting: ((result: IteratorResult<LeaderInfo | undefined>) => void)[] = [];
  readonly #failing: ((error: Error) => void)[] = [];
  #last: LeaderInfo | undefined | null = null;
  #failure: Error | undefined;
  #done = false;

  readonly #stop: () => void;

  /**
   * @param signal ends the feed.
   * @param stop called when the app stops reading early, to end the driver's watch.
   */
  constructor(signal: AbortSignal, stop: () => void) {
    this.#stop = stop;
    if (signal.aborted) this.#finish();
    else signal.addEventListener("abort", () => this.#finish(), { once: true });
  }

  change(leader: LeaderInfo | undefined): void {
    if (this.#done || this.#failure !== undefined || sameLeader(this.#last, leader)) return;
    this.#last = leader;
    const resolve = this.#waiting.shift();
    if (resolve === undefined) {
      this.#queue.push(leader);
    } else {
      this.#failing.shift();
      resolve({ value: leader, done: false });
    }
  }

  fail(error: Error): void {
    if (this.#done || this.#failure !== undefined) return;
    this.#failure = error;
    for (const reject of this.#failing.splice(0)) reject(error);
    this.#waiting.length = 0;
    // for-await does not call return() after a rejection: end the driver's watch here.
    this.#stop();
  }

  next(): Promise<IteratorResult<LeaderInfo | undefined>> {
    if (this.#queue.length > 0) {
      return Promise.resolve({ value: this.#queue.shift(), done: false });
    }
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiting.push(resolve);
      this.#failing.push(reject);
    });
  }

  async return(): Promise<IteratorResult<LeaderInfo | undefined>> {
    this.#finish();
    this.#stop();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<LeaderInfo | undefined> {
    return this;
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#queue.length = 0;
    this.#failing.length = 0;
    for (const resolve of this.#waiting.splice(0)) resolve({ value: undefined, done: true });
  }
}

function sameLeader(a: LeaderInfo | undefined | null, b: LeaderInfo | undefined): boolean {
  if (a === null) return false;
  if (a === undefined || b === undefined) return a === b;
  return a.token === b.token && a.id === b.id && a.value === b.value;
}
