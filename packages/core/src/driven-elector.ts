import { setMaxListeners } from "node:events";
import { abortSignal, advertisedValue, optionsObject } from "./config/validate.js";
import type { DriverContext, ElectionDriver } from "./driver.js";
import type {
  CampaignOptions,
  Elector,
  LeaderInfo,
  Leadership,
  ObserveOptions,
  Participant,
  ReadOptions,
} from "./elector.js";
import { ElectorObserver } from "./elector-observer.js";
import { CampaignInProgressError, ElectorClosedError } from "./errors.js";
import { type ElectorEvents, TypedEvents } from "./events.js";
import { LeaderFeed } from "./leader-feed.js";
import type { Logger } from "./logger.js";
import { type LinkedSignal, linkSignals, raceSignal } from "./signals.js";
import { Term } from "./term.js";

/** What {@link DrivenElector} needs besides its driver. */
export interface DrivenElectorOptions {
  /** The election's name. */
  readonly election: string;
  /** The candidate's id. */
  readonly id: string;
  /** Already bound to `{ election, id, backend }`. */
  readonly logger: Logger;
}

const campaignOptionKeys = Object.freeze({
  signal: true,
  value: true,
} as const satisfies Record<keyof CampaignOptions, true>);

const readOptionKeys = Object.freeze({
  signal: true,
} as const satisfies Record<keyof ReadOptions, true>);

/**
 * The one {@link Elector} implementation: it wraps a backend's {@link ElectionDriver} and keeps
 * the promises of the contract that do not depend on the backend.
 */
export class DrivenElector implements Elector {
  readonly election: string;
  readonly id: string;
  readonly #events: TypedEvents<ElectorEvents>;
  readonly #logger: Logger;
  readonly #driver: ElectionDriver;
  /** Aborted by close(): every wait of this elector listens to it. */
  readonly #closing = new AbortController();
  /** What this elector's terms report to; kept off the public surface. */
  readonly #observer: ElectorObserver;
  #term: Term | undefined;
  /** The driver's campaign under way: a new one waits until it has settled. */
  #campaigning: Promise<unknown> | undefined;
  #closed: Promise<void> | undefined;

  /**
   * @param makeDriver builds the driver with the context it reports to.
   */
  constructor(
    options: DrivenElectorOptions,
    makeDriver: (context: DriverContext) => ElectionDriver,
  ) {
    this.election = options.election;
    this.id = options.id;
    // Every wait of this elector listens to its close signal, and removes its listener when
    // it ends: a dozen concurrent reads are not a leak, and must not warn of one.
    setMaxListeners(0, this.#closing.signal);
    this.#logger = options.logger;
    this.#events = new TypedEvents(options.logger);
    this.#observer = new ElectorObserver(this.election, this.id, this.#logger, this.#events);
    this.#driver = makeDriver({
      election: this.election,
      id: this.id,
      logger: this.#logger,
      report: (error) => this.#report(error),
    });
  }

  get backend(): string {
    return this.#driver.backend;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  campaign(options: CampaignOptions = {}): Promise<Leadership> {
    return this.#track(this.#campaign(options));
  }

  async #campaign(options: CampaignOptions): Promise<Leadership> {
    // Bad input is refused before anything starts: no term, no key, no event.
    optionsObject("options", options, campaignOptionKeys, "campaign()'s options");
    abortSignal("signal", options.signal);
    const value = advertisedValue(options.value ?? this.id);
    if (this.closed) throw new ElectorClosedError("campaign()");
    options.signal?.throwIfAborted();
    const previous = this.#term;
    if ((previous !== undefined && !previous.signal.aborted) || this.#campaigning !== undefined) {
      throw new CampaignInProgressError();
    }
    const term = new Term(this.election, this.id, this.#observer);
    this.#term = term;
    // Without a caller's signal only close() withdraws: its signal serves as is. A link is an
    // AbortController, and an AbortSignal's listener tables cost some 600 B per waiting
    // candidate.
    const withdraw: LinkedSignal =
      options.signal === undefined
        ? { signal: this.#closing.signal, dispose: () => {} }
        : linkSignals(options.signal, this.#closing.signal);
    const driverSignal = linkSignals(withdraw.signal, term.signal);
    this.#logger.debug("campaigning");
    try {
      // The last term's key must be gone first, or this candidate would queue behind itself.
      if (previous?.won) await raceSignal(previous.release(), withdraw.signal).catch(() => {});
      withdraw.signal.throwIfAborted();
      const campaigning = this.#driver.campaign({
        value,
        signal: driverSignal.signal,
        term,
      });
      this.#campaigning = campaigning;
      const elected = await campaigning.finally(() => {
        this.#campaigning = undefined;
      });
      if (withdraw.signal.aborted) term.end("closed", "the campaign was withdrawn");
      term.start(elected);
      // An "elected" listener may have aborted the campaign's signal or closed the elector.
      if (withdraw.signal.aborted) term.end("closed", "the campaign was withdrawn");
      if (term.signal.aborted) {
        const refused: unknown = term.signal.reason;
        await term.release().catch((error: unknown) => this.#observer.releaseFailed(term, error));
        throw refused;
      }
      return term;
    } catch (error) {
      term.end("closed", "the campaign failed", error);
      throw this.#campaignError(error, options.signal);
    } finally {
      withdraw.dispose();
      driverSignal.dispose();
    }
  }

  /** Why a campaign rejects: the caller's abort reason, close, or the driver's own error. */
  #campaignError(error: unknown, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) return signal.reason;
    if (this.#closing.signal.aborted) return new ElectorClosedError("campaign()");
    return error;
  }

  leader(options: ReadOptions = {}): Promise<LeaderInfo | undefined> {
    return this.#read("leader()", options, async (signal) => {
      if (this.#driver.leader !== undefined) return this.#driver.leader(signal);
      const [first] = await this.#driver.participants(signal);
      return first === undefined
        ? undefined
        : { id: first.id, value: first.value, token: first.token };
    });
  }

  participants(options: ReadOptions = {}): Promise<Participant[]> {
    return this.#read("participants()", options, (signal) => this.#driver.participants(signal));
  }

  observe(options: ObserveOptions = {}): AsyncIterableIterator<LeaderInfo | undefined> {
    optionsObject("options", options, readOptionKeys, "observe()'s options");
    abortSignal("signal", options.signal);
    const stop = new AbortController();
    const link = linkSignals(options.signal, this.#closing.signal, stop.signal);
    const feed = new LeaderFeed(link.signal, () => {
      link.dispose();
      stop.abort();
    });
    if (!link.signal.aborted) {
      try {
        this.#driver.watchLeader(feed, link.signal);
      } catch (error) {
        feed.fail(error instanceof Error ? error : new Error(String(error)));
      }
    }
    return feed;
  }

  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#logger.debug("closing");
    const term = this.#term;
    if (term?.won) {
      // Also when the term ended before: a release that failed then is tried once more.
      term.end("closed", "the elector was closed");
      await term.release().catch((error: unknown) => this.#observer.releaseFailed(term, error));
    }
    this.#closing.abort(new ElectorClosedError("the operation"));
    await Promise.allSettled([...this.#observer.pending]);
    try {
      await this.#driver.close();
    } catch (error) {
      this.#report(error instanceof Error ? error : new Error(String(error)));
    }
    this.#logger.debug("closed");
  }

  /** {@link close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  on<E extends keyof ElectorEvents>(event: E, listener: (...args: ElectorEvents[E]) => void) {
    return this.#events.on(event, listener);
  }

  once<E extends keyof ElectorEvents>(event: E, listener: (...args: ElectorEvents[E]) => void) {
    return this.#events.once(event, listener);
  }

  off<E extends keyof ElectorEvents>(event: E, listener: (...args: ElectorEvents[E]) => void) {
    this.#events.off(event, listener);
  }

  #report(error: Error): void {
    this.#observer.report(error);
  }

  async #read<T>(
    operation: string,
    options: ReadOptions,
    read: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    optionsObject("options", options, readOptionKeys, `${operation}'s options`);
    abortSignal("signal", options.signal);
    if (this.closed) throw new ElectorClosedError(operation);
    options.signal?.throwIfAborted();
    const link = linkSignals(options.signal, this.#closing.signal);
    return this.#track(
      raceSignal(read(link.signal), link.signal)
        .catch((error: unknown) => {
          if (options.signal?.aborted) throw options.signal.reason;
          if (this.#closing.signal.aborted) throw new ElectorClosedError(operation);
          throw error;
        })
        .finally(() => link.dispose()),
    );
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    return this.#observer.track(promise);
  }
}
