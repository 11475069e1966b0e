import { type ElectedTerm, now, type TermControl } from "./driver.js";
import type { Leadership, ReadOptions } from "./elector.js";
import { LeadershipLostError, type LossReason } from "./errors.js";

/** What a term tells its elector. */
export interface TermObserver {
  elected(term: Term): void;
  ended(term: Term, error: LeadershipLostError): void;
  suspended(term: Term, cause: string): void;
  resumed(term: Term, suspendedMs: number): void;
  /** A failed release after a loss: nobody awaits it, so it is reported. */
  releaseFailed(term: Term, error: unknown): void;
}

/**
 * One campaign and, if it is won, one term of leadership. It is the {@link TermControl} the
 * driver reports to, and the {@link Leadership} the app holds. It owns the deadline timer.
 */
export class Term implements Leadership, TermControl {
  readonly election: string;
  readonly id: string;
  readonly #controller = new AbortController();
  readonly #observer: TermObserver;
  #deadline = Number.NEGATIVE_INFINITY;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #suspendedAt: number | undefined;
  #elected: ElectedTerm | undefined;
  #release: Promise<void> | undefined;

  constructor(election: string, id: string, observer: TermObserver) {
    this.election = election;
    this.id = id;
    this.#observer = observer;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get token(): bigint {
    if (this.#elected === undefined) throw new Error("a term has no token before it is won");
    return this.#elected.token;
  }

  /** Whether the campaign was won (the term may have ended since). */
  get won(): boolean {
    return this.#elected !== undefined;
  }

  isActive(): boolean {
    if (this.#elected === undefined || this.#controller.signal.aborted) return false;
    // After a long pause of the process the deadline timer has not run yet; seeing the clock
    // past the deadline ends the term here and now, so it cannot come back.
    if (this.#passedDeadline()) return false;
    return this.#suspendedAt === undefined;
  }

  deadline(): number {
    return this.#deadline;
  }

  async proclaim(value: string, options: ReadOptions = {}): Promise<void> {
    const elected = this.#activeOrThrow();
    const signal = anySignal(this.#controller.signal, options.signal);
    await elected.proclaim(value, signal);
    // A proclaim that raced with the end of the term must not look successful.
    this.#activeOrThrow();
  }

  async resign(options: ReadOptions = {}): Promise<void> {
    this.end("resigned", "resigned");
    await this.release(options.signal);
  }

  /** {@link resign}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.resign();
  }

  // --- TermControl, for the driver ---

  extendDeadline(at: number): void {
    if (this.#controller.signal.aborted || at <= this.#deadline) return;
    // A renewal acknowledged after the deadline is too late: the term ends whatever it says.
    if (this.#elected !== undefined && this.#passedDeadline()) return;
    this.#deadline = at;
    if (this.#elected !== undefined) this.#armDeadline();
  }

  lose(reason: LossReason, message: string, cause?: unknown): void {
    this.end(reason, message, cause);
  }

  suspend(cause: string): void {
    if (this.#controller.signal.aborted || this.#suspendedAt !== undefined) return;
    this.#suspendedAt = now();
    this.#observer.suspended(this, cause);
  }

  resume(): void {
    if (this.#controller.signal.aborted || this.#suspendedAt === undefined) return;
    const suspendedMs = now() - this.#suspendedAt;
    this.#suspendedAt = undefined;
    this.#observer.resumed(this, suspendedMs);
  }

  // --- for the elector ---

  /**
   * The driver won: the term becomes active unless it ended meanwhile or its deadline has
   * already passed, in which case the campaign must not report "elected".
   *
   * @returns the reason the term cannot start, or undefined when it started.
   */
  start(elected: ElectedTerm): LeadershipLostError | undefined {
    this.#elected = elected;
    if (!this.#controller.signal.aborted && now() >= this.#deadline) {
      this.end(
        "deadline-passed",
        "the campaign was won after the local deadline had passed; not reporting it as elected",
      );
    }
    if (this.#controller.signal.aborted) return this.#reason();
    this.#armDeadline();
    this.#observer.elected(this);
    return undefined;
  }

  /** Ends the term (or the campaign) once; later calls do nothing. */
  end(reason: LossReason, message: string, cause?: unknown): void {
    if (this.#controller.signal.aborted) return;
    clearTimeout(this.#deadlineTimer);
    const error = new LeadershipLostError(
      reason,
      `${message} (election ${JSON.stringify(this.election)}, candidate ${JSON.stringify(this.id)})`,
      cause === undefined ? {} : { cause },
    );
    this.#controller.abort(error);
    if (this.#elected === undefined) return;
    this.#observer.ended(this, error);
    if (reason !== "resigned" && reason !== "closed") {
      this.release().catch((releaseError: unknown) =>
        this.#observer.releaseFailed(this, releaseError),
      );
    }
  }

  /**
   * Deletes the term's key through the driver. One attempt at a time; after a failure, the
   * next call tries again.
   */
  release(signal?: AbortSignal): Promise<void> {
    if (this.#elected === undefined) return Promise.resolve();
    if (this.#release !== undefined) return this.#release;
    const elected = this.#elected;
    const attempt = elected.release(signal ?? new AbortController().signal);
    this.#release = attempt;
    attempt.catch(() => {
      if (this.#release === attempt) this.#release = undefined;
    });
    return attempt;
  }

  #reason(): LeadershipLostError {
    return this.#controller.signal.reason as LeadershipLostError;
  }

  #activeOrThrow(): ElectedTerm {
    if (this.#controller.signal.aborted) throw this.#reason();
    if (this.#elected === undefined) throw new Error("this term was never won");
    if (this.#passedDeadline()) throw this.#reason();
    return this.#elected;
  }

  /** Ends the term if the local deadline has passed; says whether it had. */
  #passedDeadline(): boolean {
    if (now() < this.#deadline) return false;
    this.end("deadline-passed", "no renewal was acknowledged before the local deadline");
    return true;
  }

  #armDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    if (this.#deadline === Number.POSITIVE_INFINITY) return;
    const delay = Math.max(0, this.#deadline - now());
    this.#deadlineTimer = setTimeout(() => {
      // A renewal may have moved the deadline after this timer was set.
      if (!this.#passedDeadline()) this.#armDeadline();
    }, delay);
  }
}

/** A signal that aborts when any of `signals` does, with that signal's reason. */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  if (present.length === 1 && present[0] !== undefined) return present[0];
  return AbortSignal.any(present);
}
