import type { ElectorEvents } from "./events.js";

/** Who leads an election. */
export interface LeaderInfo {
  /** The leader's candidate id (`options.id` of its elector). */
  readonly id: string;
  /** The value the leader advertises; see `campaign({ value })` and `proclaim()`. */
  readonly value: string;
  /** The leader's fencing token. */
  readonly token: bigint;
}

/** One candidate of an election, in line order: the first one leads. */
export interface Participant extends LeaderInfo {
  /** Whether this participant is the leader. */
  readonly leader: boolean;
}

/** Options of {@link Elector.campaign}. */
export interface CampaignOptions {
  /**
   * Withdraws the candidacy when aborted: the campaign rejects with the signal's reason (an
   * `AbortError` for `controller.abort()`) and leaves no key or node behind.
   */
  readonly signal?: AbortSignal;
  /**
   * What this candidate advertises while it leads, for example its address: well-formed
   * Unicode, at most `maxValueBytes` (256 KiB) of UTF-8.
   *
   * @defaultValue the elector's `id`
   */
  readonly value?: string;
}

/** Options of the read calls. */
export interface ReadOptions {
  /** Stops waiting: the call rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * One term of leadership, handed out by {@link Elector.campaign}. It ends once, for one
 * reason, and never becomes active again: campaign anew for another term.
 *
 * @example
 * ```ts
 * const leadership = await elector.campaign();
 * await runJobs({ signal: leadership.signal, token: leadership.token });
 * ```
 */
export interface Leadership extends AsyncDisposable {
  /** The election this term belongs to. */
  readonly election: string;
  /** This candidate's id. */
  readonly id: string;
  /**
   * The fencing token of this term: strictly greater than the token of every earlier term
   * of this election. Present it to the resources the leader writes to, so that they can
   * refuse a deposed leader (see `@elector/fencing`).
   */
  readonly token: bigint;
  /**
   * Aborted when the term ends, before any successor can be elected. Its `reason` is a
   * `LeadershipLostError` whose `code` says why. Pass it to all work done as leader.
   *
   * Reading `aborted` or `reason`, or calling `throwIfAborted()`, first checks the local
   * deadline, as {@link isActive} does: after a long pause the first read already says
   * aborted. An `abort` listener runs only when the deadline timer does, after a pause possibly
   * after other callbacks: stop work with it, but check `aborted` (or `isActive()`, which also
   * counts a suspended connection) right before each side effect.
   */
  readonly signal: AbortSignal;
  /**
   * Whether this candidate may act as leader now: false once the term ended, while the
   * connection is suspended, and past the local deadline even if no timer has run yet (after
   * a long pause of the process, say), by the monotonic or the wall clock (a system suspend
   * stops the former). Check it right before each side effect.
   */
  isActive(): boolean;
  /**
   * The local deadline, in `performance.now()` milliseconds: the term ends at this moment
   * unless a renewal is acknowledged first. `Infinity` while the backend needs no renewal.
   */
  deadline(): number;
  /**
   * Advertises a new value without giving up leadership.
   *
   * @throws InvalidOptionError if `value` is not a well-formed string of at most
   * `maxValueBytes` of UTF-8.
   * @throws LeadershipLostError if the term has ended.
   */
  proclaim(value: string, options?: ReadOptions): Promise<void>;
  /**
   * Gives up leadership: the signal aborts with `resigned` at once, then the key or node is
   * deleted so that the next candidate is elected. A call whose request failed rejects and
   * may be retried. Resolves at once if the term already ended for another reason.
   */
  resign(options?: ReadOptions): Promise<void>;
}

/** Options of {@link Elector.observe}. */
export interface ObserveOptions {
  /** Ends the iteration. */
  readonly signal?: AbortSignal;
}

/**
 * A candidate in one election, bound to one backend connection. Every backend (memory, etcd,
 * ZooKeeper) implements this contract and passes the same conformance suite.
 *
 * @remarks
 * Deliberately left out:
 * - Several concurrent candidacies per elector: one elector is one candidate, as in etcd's
 *   `concurrency.Election`. Create one elector per candidate.
 * - Priorities and preemption: the line is first come, first served.
 * - Raw access to the backend's client or keys: no etcd or ZooKeeper type crosses this
 *   interface. Use the backend package's own exports for that.
 *
 * @example
 * ```ts
 * const elector = await createElector("memory://", { election: "billing-cron", id: "worker-7" });
 * const leadership = await elector.campaign();
 * ```
 */
export interface Elector extends AsyncDisposable {
  /** The election's name. */
  readonly election: string;
  /** This candidate's id. */
  readonly id: string;
  /** Which backend this elector runs on: `memory`, `etcd` or `zookeeper`. */
  readonly backend: string;
  /**
   * Joins the line and resolves once this candidate leads. Never resolves after the campaign
   * failed, was aborted, or the elector was closed.
   *
   * @throws InvalidOptionError if an option is wrong (an unknown key, a `value` that is not a
   * well-formed string of at most `maxValueBytes` of UTF-8, a `signal` that is not an
   * AbortSignal), before anything starts.
   * @throws CampaignInProgressError if this elector is already campaigning or leading.
   * @throws ElectorClosedError if the elector is or becomes closed.
   */
  campaign(options?: CampaignOptions): Promise<Leadership>;
  /** The current leader, or undefined when there is none. */
  leader(options?: ReadOptions): Promise<LeaderInfo | undefined>;
  /** Every candidate in line order, the leader first. */
  participants(options?: ReadOptions): Promise<Participant[]>;
  /**
   * The current leader, then every change in order, each once: a new leader, a new value, or
   * `undefined` for "no leader". Ends when the signal aborts or the elector closes. On
   * ZooKeeper, whose watches fire once and carry no data, a change overwritten within one
   * round trip (a value proclaimed at once, a leader that left at once) may be skipped; the
   * order holds, and the feed always catches up with the current leader.
   */
  observe(options?: ObserveOptions): AsyncIterableIterator<LeaderInfo | undefined>;
  /**
   * Resigns if leading, withdraws if campaigning, ends every observation and releases the
   * connection. Idempotent: later calls return the same promise.
   */
  close(): Promise<void>;
  /** Whether {@link close} was called. */
  readonly closed: boolean;
  /** Adds an event listener; returns a function that removes it. */
  on<E extends keyof ElectorEvents>(
    event: E,
    listener: (...args: ElectorEvents[E]) => void,
  ): () => void;
  /** Adds a listener for the next `event` only. */
  once<E extends keyof ElectorEvents>(
    event: E,
    listener: (...args: ElectorEvents[E]) => void,
  ): () => void;
  /** Removes a listener. */
  off<E extends keyof ElectorEvents>(event: E, listener: (...args: ElectorEvents[E]) => void): void;
}
