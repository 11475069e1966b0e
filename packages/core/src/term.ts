import { type Clocks, DeadlineClock, systemClocks } from "./clocks.js";
import { abortSignal, advertisedValue, optionsObject } from "./config/validate.js";
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
  /** A renewal moved the deadline of a won term. */
  renewed(term: Term): void;
  /** A release is under way: close() waits for it before it closes the driver. */
  releasing(term: Term, release: Promise<void>): void;
  /** A failed release after a loss: nobody awaits it, so it is reported. */
  releaseFailed(term: Term, error: unknown): void;
}

/** How long a won campaign took, as the `elected` event reports it. */
export interface TermTimings {
  readonly campaignMs: number;
  readonly handoffMs: number | undefined;
}

/** What a passed deadline says unless the driver names it otherwise. */
const noRenewalInTime = "no renewal was acknowledged before the local deadline";

/** What a passed deadline ends a term with. */
interface DeadlineLoss {
  readonly reason: LossReason;
  readonly describe: () => string;
}

/** Until the driver names it: one frozen object for every term, not one per term. */
const unnamedDeadlineLoss: DeadlineLoss = Object.freeze({
  reason: "deadline-passed",
  describe: () => noRenewalInTime,
});

const abortedOf = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted")?.get;
const reasonOf = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "reason")?.get;
const throwIfAborted = AbortSignal.prototype.throwIfAborted;

/** Whether `signal` aborted, without running the check that a term puts on `aborted`. */
function rawAborted(signal: AbortSignal): boolean {
  return abortedOf === undefined ? signal.aborted : (abortedOf.call(signal) as boolean);
}

/**
 * Makes `check` run before each read of `signal.aborted` and `signal.reason` and each call of
 * `signal.throwIfAborted()`. The deadline timer, like every callback, runs only when the event
 * loop gets to it: after a pause, socket callbacks that may already see a successor run first.
 * A read runs the check itself, so the signal is as current as `isActive()`. Most of Node's
 * own APIs that take a signal (`fetch`, `timers/promises`, streams) read `aborted` on entry and
 * so run it too; `AbortSignal.any` does up to Node 22, while Node 24's reads the internal flag.
 * An abort listener cannot be made so: it runs when the timer or a read has ended the term.
 */
function checkOnRead(signal: AbortSignal, check: () => void): void {
  if (abortedOf === undefined || reasonOf === undefined) return;
  Object.defineProperties(signal, {
    aborted: {
      configurable: true,
      get(this: AbortSignal) {
        check();
        return abortedOf.call(this) as boolean;
      },
    },
    reason: {
      configurable: true,
      get(this: AbortSignal) {
        check();
        return reasonOf.call(this) as unknown;
      },
    },
    throwIfAborted: {
      configurable: true,
      writable: true,
      value(this: AbortSignal) {
        check();
        throwIfAborted.call(this);
      },
    },
  });
}

function checkReadOptions(operation: string, options: ReadOptions): void {
  optionsObject("options", options, { signal: true }, `${operation}'s options`);
  abortSignal("signal", options.signal);
}

/**
 * One campaign and, if it is won, one term of leadership. It is the {@link TermControl} the
 * driver reports to, and the {@link Leadership} the app holds. It owns the deadline timer, and
 * checks the deadline on every `isActive()` call and every read of its signal.
 */
export class Term implements Leadership, TermControl {
  readonly election: string;
  readonly id: string;
  readonly #controller = new AbortController();
  readonly #observer: TermObserver;
  readonly #clock: DeadlineClock;
  #deadline = Number.NEGATIVE_INFINITY;
  #deadlineTimer: NodeJS.Timeout | undefined;
  /** A judgement of the deadline is scheduled for after the pending I/O. */
  #judging = false;
  #deadlineLoss: DeadlineLoss = unnamedDeadlineLoss;
  #suspendedAt: number | undefined;
  /** When the campaign began, and when it last found no candidate ahead of it. */
  readonly #campaignStartedAt = now();
  #headOfLineAt: number | undefined;
  #timings: TermTimings | undefined;
  #elected: ElectedTerm | undefined;
  #release: Promise<void> | undefined;

  constructor(election: string, id: string, observer: TermObserver, clocks: Clocks = systemClocks) {
    this.election = election;
    this.id = id;
    this.#observer = observer;
    this.#clock = new DeadlineClock(clocks);
    // Only a won term checks on a read: while campaigning the driver reads the signal before
    // it has set a first deadline, and the timer bounds the campaign.
    checkOnRead(this.#controller.signal, () => {
      if (this.#elected !== undefined && !this.#ended()) this.#passedDeadline();
    });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get token(): bigint {
    if (this.#elected === undefined) throw new Error("a term has no token before it is won");
    return this.#elected.token;
  }

  /** How long the won campaign took; undefined until it was won. */
  get timings(): TermTimings | undefined {
    return this.#timings;
  }

  /** Whether the campaign was won (the term may have ended since). */
  get won(): boolean {
    return this.#elected !== undefined;
  }

  isActive(): boolean {
    if (this.#elected === undefined || this.#ended()) return false;
    // After a long pause of the process the deadline timer has not run yet; seeing the clock
    // past the deadline ends the term here and now, so it cannot come back.
    if (this.#passedDeadline()) return false;
    return this.#suspendedAt === undefined;
  }

  deadline(): number {
    return this.#deadline;
  }

  async proclaim(value: string, options: ReadOptions = {}): Promise<void> {
    advertisedValue(value);
    checkReadOptions("proclaim()", options);
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
    checkReadOptions("resign()", options);
    const reason = this.#ended() ? this.#reason().code : undefined;
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
    if (this.#ended() || at <= this.#deadline) return;
    this.#clock.mark();
    // A renewal read after the deadline still counts if its own deadline is ahead: it was
    // sent before that instant, and a server renews only a lease that is alive, so the lease
    // never lapsed. One whose deadline has passed too is too late: the term ends. (Once an
    // isActive() call or a read of the signal has ended the term, nothing brings it back.)
    if (this.#elected !== undefined && this.#clock.now() >= at) {
      this.#passedDeadline();
      return;
    }
    this.#deadline = at;
    if (this.#elected !== undefined) this.#observer.renewed(this);
    // Armed while campaigning too: a candidate that hears nothing past its deadline gives up
    // the campaign with that loss, rather than wait for a server that may have dropped it.
    this.#armDeadline();
  }

  nameDeadlineLoss(reason: LossReason, describe: () => string): void {
    this.#deadlineLoss = { reason, describe };
  }

  predecessorGone(): void {
    if (this.#elected === undefined && !this.#ended()) this.#headOfLineAt = now();
  }

  lose(reason: LossReason, message: string, cause?: unknown): void {
    this.end(reason, message, cause);
  }

  suspend(cause: string): void {
    if (this.#ended() || this.#suspendedAt !== undefined) return;
    this.#suspendedAt = now();
    this.#observer.suspended(this, cause);
  }

  resume(): void {
    if (this.#ended() || this.#suspendedAt === undefined) return;
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
    if (this.#clock.now() >= this.#deadline) {
      this.end(
        this.#deadlineLoss.reason,
        `the campaign was won after the local deadline had passed; not reporting it as elected: ${this.#describeDeadlineLoss()}`,
      );
    }
    this.#elected = elected;
    if (this.#ended()) return;
    const at = now();
    this.#timings = {
      campaignMs: at - this.#campaignStartedAt,
      handoffMs: this.#headOfLineAt === undefined ? undefined : at - this.#headOfLineAt,
    };
    this.#armDeadline();
    this.#observer.elected(this);
  }

  /** Ends the term (or the campaign) once; later calls do nothing. */
  end(reason: LossReason, message: string, cause?: unknown): void {
    if (this.#ended()) return;
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

  /** Whether the term ended; unlike `signal.aborted`, it runs no check. */
  #ended(): boolean {
    return rawAborted(this.#controller.signal);
  }

  #reason(): LeadershipLostError {
    const signal = this.#controller.signal;
    return (reasonOf === undefined ? signal.reason : reasonOf.call(signal)) as LeadershipLostError;
  }

  #activeOrThrow(): ElectedTerm {
    if (this.#ended()) throw this.#reason();
    if (this.#elected === undefined) throw new Error("this term was never won");
    if (this.#passedDeadline()) throw this.#reason();
    return this.#elected;
  }

  /** Ends the term if the local deadline has passed; says whether it had. */
  #passedDeadline(): boolean {
    if (this.#clock.now() < this.#deadline) return false;
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
    const delay = Math.max(0, this.#deadline - this.#clock.now());
    this.#deadlineTimer = setTimeout(() => this.#judgeDeadlineSoon(), delay);
    // It only watches: the renewals, or the app's own work, keep the process alive (see the
    // timer rule in the package README).
    this.#deadlineTimer.unref();
  }

  /**
   * Ends the term if the deadline has passed, once the event loop has read what has arrived:
   * timers run before sockets are read, so after a pause of the process the answer to a
   * renewal sent just before it may be waiting, and may prove a later deadline. An
   * `isActive()` call or a read of the signal meanwhile still ends the term at once.
   */
  #judgeDeadlineSoon(): void {
    if (this.#judging) return;
    this.#judging = true;
    setImmediate(() => {
      this.#judging = false;
      // A renewal may have moved the deadline meanwhile.
      if (!this.#ended() && !this.#passedDeadline()) this.#armDeadline();
    }).unref();
  }
}
