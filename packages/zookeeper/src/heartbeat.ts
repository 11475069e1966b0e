/**
 * Runs `beat` at once and then every `intervalMs`, never two at a time: the session's
 * own request that proves, from JavaScript, that the server still hears us. The C client
 * pings too, but its pings are invisible to JavaScript.
 */
export class Heartbeat {
  readonly #beat: () => Promise<void>;
  readonly #overdue: () => void;
  #timer: NodeJS.Timeout | undefined;
  /** The beat under way, if any: a beat of an earlier start() does not count. */
  #inFlight: symbol | undefined;

  /**
   * @param beat one heartbeat request.
   * @param overdue called when a beat is due while the last one is still unanswered.
   */
  constructor(beat: () => Promise<void>, overdue: () => void) {
    this.#beat = beat;
    this.#overdue = overdue;
  }

  /** (Re)starts the beat; the first one goes out now. */
  start(intervalMs: number): void {
    this.stop();
    this.#inFlight = undefined;
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), Math.max(1, Math.floor(intervalMs)));
    // A heartbeat alone must not keep a process alive.
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    if (this.#inFlight !== undefined) {
      this.#overdue();
      return;
    }
    const beat = Symbol("beat");
    this.#inFlight = beat;
    this.#beat()
      .catch(() => {
        // A failed beat says nothing new: the session reports the disconnect itself.
      })
      .finally(() => {
        if (this.#inFlight === beat) this.#inFlight = undefined;
      });
  }
}
