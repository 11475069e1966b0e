import type { CandidateEvent } from "./candidate.js";

/** A candidate's event as the demo received it. */
export type LoggedEvent = CandidateEvent & {
  /** The candidate's id. */
  readonly id: string;
  /** `performance.now()` in the demo's process when the event arrived. */
  readonly at: number;
};

/**
 * Every event of every candidate, in arrival order, with waits bounded by a timeout: the demo
 * moves on when something has happened, never after a fixed sleep.
 */
export class EventLog {
  readonly events: LoggedEvent[] = [];
  readonly #listeners = new Set<(event: LoggedEvent) => void>();

  push(id: string, event: CandidateEvent): void {
    const logged = { ...event, id, at: performance.now() } as LoggedEvent;
    this.events.push(logged);
    for (const listener of [...this.#listeners]) listener(logged);
  }

  /** Calls `listener` with every later event; returns a function that removes it. */
  subscribe(listener: (event: LoggedEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The first event at or after index `from` that `match` accepts, waiting up to
   * `timeoutMs` for it.
   *
   * @throws Error naming `what` when none came in time.
   */
  waitFor<E extends LoggedEvent>(
    what: string,
    match: (event: LoggedEvent) => event is E,
    timeoutMs: number,
    from = 0,
  ): Promise<E> {
    const found = this.events.slice(from).find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`the demo waited ${timeoutMs} ms for ${what}, in vain`));
      }, timeoutMs);
      const unsubscribe = this.subscribe((event) => {
        if (!match(event)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(event);
      });
    });
  }
}

/** Type guards for {@link EventLog.waitFor}. */
export const is = {
  elected: (event: LoggedEvent): event is LoggedEvent & { type: "elected" } =>
    event.type === "elected",
  holding: (event: LoggedEvent): event is LoggedEvent & { type: "holding" } =>
    event.type === "holding",
  write: (event: LoggedEvent): event is LoggedEvent & { type: "write" } => event.type === "write",
  lost: (event: LoggedEvent): event is LoggedEvent & { type: "lost" } => event.type === "lost",
  ready: (event: LoggedEvent): event is LoggedEvent & { type: "ready" } => event.type === "ready",
  stopped: (event: LoggedEvent): event is LoggedEvent & { type: "stopped" } =>
    event.type === "stopped",
};
