/** The two clocks a deadline is read from, in milliseconds. Tests inject their own. */
export interface Clocks {
  /** A monotonic clock: `performance.now()`, the time base of every deadline. */
  monotonic(): number;
  /** The wall clock: `Date.now()`. */
  wall(): number;
}

/** The process's clocks. */
export const systemClocks: Clocks = Object.freeze({
  monotonic: () => performance.now(),
  wall: () => Date.now(),
});

/**
 * A clock in `performance.now()` milliseconds that never runs slower than the wall clock.
 *
 * `performance.now()` reads CLOCK_MONOTONIC, which stops while the system is suspended and may
 * not advance through a VM stop, while the server's lease keeps running. The wall clock keeps
 * counting through both. So this clock reads the monotonic time plus however far the wall
 * clock has pulled ahead of it since a base: a deadline passes when either clock says so.
 *
 * The base moves at each {@link mark} (each renewal) to the offset of the mark before, so
 * that a suspend between a renewal's send and its acknowledgement still counts, while the
 * small steps by which a synchronised wall clock is corrected do not add up over a long term.
 * A wall clock set back lowers the base, so it never makes a deadline later than the monotonic
 * clock alone would; one set forward ends a term early, on the safe side.
 */
export class DeadlineClock {
  readonly #clocks: Clocks;
  /** The wall − monotonic offset that {@link now} counts from. */
  #base: number;
  /** The offset at the last {@link mark}: the next mark's base. */
  #lastMark: number;

  constructor(clocks: Clocks = systemClocks) {
    this.#clocks = clocks;
    this.#base = this.#offset();
    this.#lastMark = this.#base;
  }

  /** The time, in the monotonic clock's base, by whichever clock is further ahead. */
  now(): number {
    const monotonic = this.#clocks.monotonic();
    const offset = this.#clocks.wall() - monotonic;
    if (offset < this.#base) this.#base = offset;
    return monotonic + (offset - this.#base);
  }

  /** A renewal was acknowledged: count from the offset of the one before. */
  mark(): void {
    const offset = this.#offset();
    this.#base = Math.min(this.#lastMark, offset);
    this.#lastMark = offset;
  }

  #offset(): number {
    return this.#clocks.wall() - this.#clocks.monotonic();
  }
}
