/**
 * Runs `beat` at once and then every `intervalMs`, pipelined: a beat goes out on time even
 * while earlier ones are unanswered, so that under latency each answer proves the session
 * alive from its own send time, and a slow round trip never skips a beat.
 */
export class Heartbeat {
  readonly #beat: () => Promise<void>;
  readonly #overdue: () => void;
  #timer: NodeJS.Timeout | undefined;
  /** The beats of the current start() that are unanswered, each with its overdue timer. */
  #inFlight = new Map<symbol, NodeJS.Timeout>();

  /**
   * @param beat one heartbeat request.
   * @param overdue called when a beat is still unanswered `overdueMs` after it went out.
   */
  constructor(beat: () => Promise<void>, overdue: () => void) {
    this.#beat = beat;
    this.#overdue = overdue;
  }

  /** (Re)starts the beat; the first one goes out now. */
  start(intervalMs: number, overdueMs: number): void {
    this.stop();
    const interval = Math.max(1, Math.floor(intervalMs));
    const overdue = Math.max(1, Math.floor(overdueMs));
    this.#tick(overdue);
    this.#timer = setInterval(() => this.#tick(overdue), interval);
    // A heartbeat alone must not keep a process alive.
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    // Beats of an earlier start() no longer count.
    for (const timer of this.#inFlight.values()) clearTimeout(timer);
    this.#inFlight = new Map();
  }

  #tick(overdueMs: number): void {
    const inFlight = this.#inFlight;
    const beat = Symbol("beat");
    const timer = setTimeout(() => {
      if (inFlight.has(beat)) this.#overdue();
    }, overdueMs);
    timer.unref();
    inFlight.set(beat, timer);
    this.#beat()
      .catch(() => {
        // A failed beat says nothing new: the session reports the disconnect itself.
      })
      .finally(() => {
        clearTimeout(timer);
        inFlight.delete(beat);
      });
  }
}
