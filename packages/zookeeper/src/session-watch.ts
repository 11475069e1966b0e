import { now, type TermControl } from "@elector/core/backend";
import type { Session } from "./session.js";

/** How long before the term's deadline the local verdict falls. */
const verdictLeadMs = 25;

/**
 * Ties one campaign or term to its session: every answer through the quorum leader moves the
 * term's deadline to its send time + the negotiated session timeout − the safety margin; a
 * disconnect, or a heartbeat left unanswered for a third of the session timeout, suspends
 * the term at once; a reconnect within the session, once answered, resumes it; the end of
 * the session ends it.
 *
 * @remarks
 * Its one timer is the local verdict: if nothing was heard by the deadline, the term ends
 * with `connection-lost` even though the C client has not said so (it reports expiry only
 * after it reconnects). The timer is set 25 ms before the deadline so that this
 * reason, rather than core's `deadline-passed`, names the loss.
 */
export class SessionWatch {
  readonly #session: Session;
  readonly #term: TermControl;
  readonly #marginMs: number;
  readonly #unsubscribe: () => void;
  #lossAt = Number.NEGATIVE_INFINITY;
  #lastHeard: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Set once the term's node is gone: no reconnect may give authority back. */
  #held = false;

  constructor(session: Session, term: TermControl, marginMs: number) {
    this.#session = session;
    this.#term = term;
    this.#marginMs = marginMs;
    this.#unsubscribe = session.subscribe({
      heard: (sentAt) => this.#heard(sentAt),
      disconnected: (cause) => term.suspend(cause),
      restored: () => {
        if (!this.#held) term.resume();
      },
      ended: (state, message) =>
        term.lose(state === "expired" ? "session-expired" : "connection-lost", message),
    });
    if (session.lastHeard !== undefined) this.#heard(session.lastHeard);
    const doubt = session.doubt;
    if (doubt !== undefined) term.suspend(doubt);
  }

  /**
   * Suspends the term for good: a later reconnect does not resume it. For a node that is gone,
   * while the reason (someone else, or the session's end) is still being found out.
   */
  hold(cause: string): void {
    this.#held = true;
    this.#term.suspend(cause);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#unsubscribe();
    clearTimeout(this.#timer);
  }

  #heard(sentAt: number): void {
    if (this.#stopped) return;
    const deadline = sentAt + this.#session.timeoutMs - this.#marginMs;
    this.#term.extendDeadline(deadline);
    if (deadline - verdictLeadMs <= this.#lossAt) return;
    this.#lastHeard = sentAt;
    this.#lossAt = deadline - verdictLeadMs;
    this.#arm();
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        if (this.#stopped) return;
        if (now() < this.#lossAt) {
          this.#arm();
          return;
        }
        const silentMs = Math.round(now() - (this.#lastHeard ?? 0));
        this.#term.lose(
          "connection-lost",
          `ZooKeeper has not answered for ${silentMs} ms, longer than the session timeout (${this.#session.timeoutMs} ms) less the safety margin (${this.#marginMs} ms): the session has expired or is about to`,
        );
      },
      Math.max(0, this.#lossAt - now()),
    );
  }
}
