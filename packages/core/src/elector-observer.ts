import type { LeadershipLostError } from "./errors.js";
import type { ElectorEvents, TypedEvents } from "./events.js";
import type { Logger } from "./logger.js";
import type { Term, TermObserver } from "./term.js";

/**
 * What an elector's terms report to: its log, its events, and the work close() waits for.
 * A class, not an object of arrow functions: its methods are shared by every elector, where
 * the closures were made again for each (of a thousand candidates on a process, say).
 */
export class ElectorObserver implements TermObserver {
  readonly #election: string;
  readonly #id: string;
  readonly #logger: Logger;
  readonly #events: TypedEvents<ElectorEvents>;
  /** Work under way that close() waits for. */
  readonly pending = new Set<Promise<unknown>>();

  constructor(election: string, id: string, logger: Logger, events: TypedEvents<ElectorEvents>) {
    this.#election = election;
    this.#id = id;
    this.#logger = logger;
    this.#events = events;
  }

  elected(term: Term): void {
    this.#logger.info({ token: term.token.toString() }, "elected");
    const timings = term.timings;
    this.#events.emit("elected", {
      election: this.#election,
      id: this.#id,
      token: term.token,
      leadership: term,
      campaignMs: timings?.campaignMs ?? 0,
      handoffMs: timings?.handoffMs,
    });
  }

  renewed(term: Term): void {
    this.#events.emit("renewed", {
      election: this.#election,
      id: this.#id,
      token: term.token,
      deadline: term.deadline(),
    });
  }

  ended(term: Term, error: LeadershipLostError): void {
    const level = error.code === "resigned" || error.code === "closed" ? "info" : "warn";
    this.#logger[level]({ token: term.token.toString(), reason: error.code }, "leadership ended");
    this.#events.emit("lost", {
      election: this.#election,
      id: this.#id,
      token: term.token,
      reason: error.code,
      error,
    });
  }

  suspended(term: Term, cause: string): void {
    this.#logger.warn({ cause }, "suspended");
    this.#events.emit("suspended", {
      election: this.#election,
      id: this.#id,
      token: term.won ? term.token : undefined,
      cause,
    });
  }

  resumed(term: Term, suspendedMs: number): void {
    this.#logger.info({ suspendedMs }, "resumed");
    this.#events.emit("resumed", {
      election: this.#election,
      id: this.#id,
      token: term.won ? term.token : undefined,
      suspendedMs,
    });
  }

  releasing(_term: Term, release: Promise<void>): void {
    this.track(release).catch(() => {});
  }

  releaseFailed(term: Term, error: unknown): void {
    this.report(
      new Error(
        `could not delete the key of term ${term.token} of election ${JSON.stringify(this.#election)}; it goes when its lease or session expires`,
        { cause: error },
      ),
    );
  }

  /** Logs and emits a failure of background work. */
  report(error: Error): void {
    this.#logger.error({ err: error }, error.message);
    this.#events.emit("error", error);
  }

  /** Keeps `promise` in {@link pending} until it settles. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    const forget = () => this.pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }
}
