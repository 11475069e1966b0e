import { now, type TermControl } from "@elector/core/backend";
import type { Session } from "./session.js";

/**
 * Ties one campaign or term to its session: every answer through the quorum leader moves the
 * term's deadline to its send time + the negotiated session timeout − the safety margin (both
 * as of the connection that carried it: see {@link Session.marginMs}); a
 * disconnect, or a heartbeat left unanswered for three quarters of (timeout − margin), suspends
 * the term at once; a reconnect within the session, once answered, resumes it; the end of
 * the session ends it.
 *
 * @remarks
 * A deadline that passes in silence ends the term with `connection-lost`, not core's
 * `deadline-passed`: by then the server has heard nothing for a session timeout, and the
 * client would report the expiry only after it reconnects.
 */
export class SessionWatch {
  readonly #session: Session;
  readonly #term: TermControl;
  readonly #unsubscribe: () => void;
  #lastHeard: number | undefined;
  #stopped = false;
  /** Set once the term's node is gone: no reconnect may give authority back. */
  #held = false;

  constructor(session: Session, term: TermControl) {
    this.#session = session;
    this.#term = term;
    this.#unsubscribe = session.subscribe({
      heard: (sentAt) => this.#heard(sentAt),
      disconnected: (cause) => term.suspend(cause),
      restored: () => {
        if (!this.#held) term.resume();
      },
      ended: (state, message) =>
        term.lose(state === "expired" ? "session-expired" : "connection-lost", message),
    });
    term.nameDeadlineLoss("connection-lost", () => {
      const silentMs = Math.round(now() - (this.#lastHeard ?? 0));
      return `ZooKeeper has not answered for ${silentMs} ms, longer than the session timeout (${session.timeoutMs} ms) less the safety margin (${session.marginMs} ms): the session has expired or is about to`;
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
  }

  #heard(sentAt: number): void {
    if (this.#stopped) return;
    if (this.#lastHeard === undefined || sentAt > this.#lastHeard) this.#lastHeard = sentAt;
    this.#term.extendDeadline(sentAt + this.#session.timeoutMs - this.#session.marginMs);
  }
}
