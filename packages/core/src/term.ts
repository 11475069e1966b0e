import { type ElectedTerm, now, type TermControl } from "./driver.js";
import type { Leadership, ReadOptions } from "./elector.js";
import { LeadershipLostError, type LossReason } from "./errors.js";
import { linkSignals, raceSignal } from "./signals.js";

/** What a term tells its elector. */
export interface TermObserver {
  elected(term: Term): void;
  ended(term: Term, error: LeadershipLostError): void;
  suspended(term: Term, cause: string): void;
  resumed(term: Term, suspendedMs: number): void;
  /** A release is under way: close() waits for it before it closes the driver. */
  releasing(term: Term, release: Promise<void>): void;
  /** A failed release after a loss: nobody awaits it, so it is reported. */
  releaseFailed(term: Term, error: unknown): void;
}

/** What a passed deadline says unless the driver names it otherwise. */
const noRenewalInTime = "no renewal was acknowledged before the local deadline";

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
  /** A judgement of the deadline is scheduled for after the pending I/O. */
  #judging = false;
  #deadlineLoss: { readonly reason: LossReason; readonly describe: () => string } = {
    reason: "deadline-passed",
    describe: () => noRenewalInTime,
  };
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
    const link = linkSignals(this.#controller.signal, options.signal);
    try {
      await raceSignal(elected.proclaim(value, link.signal), link.signal);
    } finally {
      link.dispose();
    }
    // A proclaim that raced with the end of the term must not look successful.
    this.#activeOrThrow();
  }

  async resign(options: ReadOptions = {}): Promise<void> {
    const reason = this.#controller.signal.aborted ? this.#reason().code : undefined;
    // Lost for another reason: the elector already deletes the key, and reports a failure.
    if (reason !== undefined && reason !== "resigned") return;
    this.end("resigned", "resigned");
    await raceSignal(this.release(options.signal), options.signal);
  }

  /** {@link resign}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.resign();
  }

  // --- TermControl, for the driver ---

  extendDeadline(at: number): void {
    if (this.#controller.signal.aborted || at <= this.#deadline) return;
    // A renewal read after the deadline still counts if its own deadline is ahead: it was
    // sent before that instant, and a server renews only a lease that is alive, so the lease
    // never lapsed. One whose deadline has passed too is too late: the term ends.
    if (this.#elected !== undefined && now() >= at) {
      this.#passedDeadline();
      return;
    }
    this.#deadline = at;
    // Armed while campaigning too: a candidate that hears nothing past its deadline gives up
    // the campaign with that loss, rather than wait for a server that may have dropped it.
    this.#armDeadline();
  }

  nameDeadlineLoss(reason: LossReason, describe: () => string): void {
    this.#deadlineLoss = { reason, describe };
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
   * already passed, in which case the campaign must not report "elected". Check `signal`
   * afterwards: an "elected" listener may have ended the term at once.
   */
  start(elected: ElectedTerm): void {
    // Checked before the term counts as won, so that no "lost" is told for it.
    if (now() >= this.#deadline) {
      this.end(
        this.#deadlineLoss.reason,
        `the campaign was won after the local deadline had passed; not reporting it as elected: ${this.#describeDeadlineLoss()}`,
      );
    }
    this.#elected = elected;
    if (this.#controller.signal.aborted) return;
    this.#armDeadline();
    this.#observer.elected(this);
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
    const attempt = this.#elected.release(signal ?? new AbortController().signal);
    this.#release = attempt;
    attempt.catch(() => {
      if (this.#release === attempt) this.#release = undefined;
    });
    this.#observer.releasing(this, attempt);
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
    this.end(this.#deadlineLoss.reason, this.#describeDeadlineLoss());
    return true;
  }

  /** The driver's message for a passed deadline; a driver that throws cannot keep the term. */
  #describeDeadlineLoss(): string {
    try {
      return this.#deadlineLoss.describe();
    } catch {
      return noRenewalInTime;
    }
  }

  #armDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    if (this.#deadline === Number.POSITIVE_INFINITY) return;
    const delay = Math.max(0, this.#deadline - now());
    this.#deadlineTimer = setTimeout(() => this.#judgeDeadlineSoon(), delay);
  }

  /**
   * Ends the term if the deadline has passed, once the event loop has read what has arrived:
   * timers run before sockets are read, so after a pause of the process the answer to a
   * renewal sent just before it may be waiting, and may prove a later deadline. An
   * `isActive()` call meanwhile still ends the term at once.
   */
  #judgeDeadlineSoon(): void {
    if (this.#judging) return;
    this.#judging = true;
    setImmediate(() => {
      this.#judging = false;
      // A renewal may have moved the deadline meanwhile.
      if (!this.#controller.signal.aborted && !this.#passedDeadline()) this.#armDeadline();
    });
  }
}
