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
 * clock has pulled ahead of it since the clock was made: a deadline passes when either clock
 * says so. A wall clock set back only lowers the offset it is measured from, so it never makes
 * a deadline later than the monotonic clock alone would; a wall clock set forward ends a term
 * early, on the safe side.
 */
export class DeadlineClock {
  readonly #clocks: Clocks;
  /** The smallest wall − monotonic offset seen: a wall clock set back lowers it. */
  #baseOffset: number;

  constructor(clocks: Clocks = systemClocks) {
    this.#clocks = clocks;
    this.#baseOffset = clocks.wall() - clocks.monotonic();
  }

  /** The time, in the monotonic clock's base, by whichever clock is further ahead. */
  now(): number {
    const monotonic = this.#clocks.monotonic();
    const offset = this.#clocks.wall() - monotonic;
    if (offset < this.#baseOffset) this.#baseOffset = offset;
    return monotonic + (offset - this.#baseOffset);
  }
}
