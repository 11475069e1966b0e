import type { Leadership } from "./elector.js";
import type { LeadershipLostError } from "./errors.js";
import type { Logger } from "./logger.js";

/** Listener argument lists by event name. */
export type EventMap = { [event: string]: unknown[] };

/**
 * A small typed event emitter. Unlike node:events, an `error` event with no listener is not
 * thrown (it would crash the process from a background task), and a listener that throws is
 * logged, not allowed to break the emitter.
 */
export class TypedEvents<Events extends EventMap> {
  // Listeners are stored untyped; on() and emit() keep each event's types.
  // Both made on first use: most electors never get a listener, and with a thousand on a
  // process their empty tables were a large share of each candidate's heap.
  #listeners: Map<keyof Events, Set<unknown>> | undefined;
  /** What once() registered for each listener it was given, so that off() finds it. */
  #onceWrappers: WeakMap<object, unknown> | undefined;
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /**
   * Calls `listener` on every `event` until the returned function is called.
   *
   * @returns a function that removes the listener.
   */
  on<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): () => void {
    this.#listeners ??= new Map();
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Calls `listener` on the next `event` only. */
  once<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): () => void {
    const wrapper = (...args: Events[E]) => {
      off();
      listener(...args);
    };
    this.#onceWrappers ??= new WeakMap();
    this.#onceWrappers.set(listener, wrapper);
    const off = this.on(event, wrapper);
    return () => {
      this.#onceWrappers?.delete(listener);
      off();
    };
  }

  /** Removes a listener added with {@link on} or {@link once}. */
  off<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): void {
    const set = this.#listeners?.get(event);
    set?.delete(listener);
    const wrapper = this.#onceWrappers?.get(listener);
    if (wrapper !== undefined && set?.delete(wrapper)) this.#onceWrappers?.delete(listener);
  }

  /** @internal Calls every listener of `event` in the order they were added. */
  emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    const set = this.#listeners?.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as (...args: Events[E]) => void)(...args);
      } catch (error) {
        this.#logger.error({ err: error, event: String(event) }, "an event listener threw");
      }
    }
  }
}

/** What the `elected` event carries. */
export interface ElectedEvent {
  /** The election's name. */
  readonly election: string;
  /** This candidate's id. */
  readonly id: string;
  /** The new term's fencing token. */
  readonly token: bigint;
  /** The new term, as `campaign()` hands it out: for `isActive()` in a readiness probe. */
  readonly leadership: Leadership;
  /** From the `campaign()` call to this moment, in milliseconds. */
  readonly campaignMs: number;
  /**
   * From the moment this candidate saw the candidate ahead of it go to this moment, in
   * milliseconds: the part of a handoff that this candidate controls (the re-check), without
   * the server's delay in telling it. Undefined when nobody was ahead of it at the join.
   */
  readonly handoffMs: number | undefined;
}

/** What the `renewed` event carries. */
export interface RenewedEvent {
  /** The election's name. */
  readonly election: string;
  /** This candidate's id. */
  readonly id: string;
  /** The leader's token. */
  readonly token: bigint;
  /** The new local deadline, in `performance.now()` milliseconds (see `Leadership.deadline()`). */
  readonly deadline: number;
}

/** What the `lost` event carries. */
export interface LostEvent {
  /** The election's name. */
  readonly election: string;
  /** This candidate's id. */
  readonly id: string;
  /** The ended term's fencing token. */
  readonly token: bigint;
  /** Why, as a code; the same as `error.code`. */
  readonly reason: LeadershipLostError["code"];
  /** The error that aborted `leadership.signal`, with the backend's error as `cause`. */
  readonly error: LeadershipLostError;
}

/** What the `suspended` event carries. */
export interface SuspendedEvent {
  /** The election's name. */
  readonly election: string;
  /** This candidate's id. */
  readonly id: string;
  /** The leader's token if this candidate was leading, else undefined. */
  readonly token: bigint | undefined;
  /** Why authority is in doubt, for example "disconnected". */
  readonly cause: string;
}

/** What the `resumed` event carries. */
export interface ResumedEvent {
  /** The election's name. */
  readonly election: string;
  /** This candidate's id. */
  readonly id: string;
  /** The leader's token if this candidate is leading, else undefined. */
  readonly token: bigint | undefined;
  /** How long authority was in doubt, in milliseconds. */
  readonly suspendedMs: number;
}

/**
 * The events of an {@link Elector}, for operators: each is something worth counting.
 *
 * @example
 * ```ts
 * elector.on("lost", ({ reason }) => metrics.increment("leadership_lost", { reason }));
 * ```
 */
export interface ElectorEvents extends EventMap {
  /** This candidate became the leader. */
  elected: [event: ElectedEvent];
  /** This candidate's leadership ended; `reason` says why. */
  lost: [event: LostEvent];
  /** A renewal was acknowledged while leading: the deadline moved later. */
  renewed: [event: RenewedEvent];
  /** The connection is in doubt: `isActive()` is false until `resumed` or `lost`. */
  suspended: [event: SuspendedEvent];
  /** The connection came back within the session: authority is restored. */
  resumed: [event: ResumedEvent];
  /** A background failure that no caller's promise could carry (a failed cleanup, say). */
  error: [error: Error];
}
