/** One line a writer reported. */
export interface WriterEvent {
  readonly event: string;
  /** `performance.timeOrigin + performance.now()` in the reporting process, in ms. */
  readonly at: number;
  readonly [field: string]: unknown;
}

/** The events of one writer, in order, with a way to wait for the next that matches. */
export class EventLog {
  readonly events: WriterEvent[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #name: string;
  #describe: () => string = () => "";

  constructor(name: string, describe?: () => string) {
    this.#name = name;
    if (describe !== undefined) this.#describe = describe;
  }

  push(event: WriterEvent): void {
    this.events.push(event);
    for (const wake of [...this.#waiters]) wake();
  }

  /** The events named `name`. */
  named(name: string): WriterEvent[] {
    return this.events.filter((event) => event.event === name);
  }

  /** Resolves with the first event, past or future, that `match` accepts. */
  waitFor(match: (event: WriterEvent) => boolean, timeoutMs: number): Promise<WriterEvent> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(match);
        if (found === undefined) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(
          new Error(
            `${this.#name}: no matching event within ${timeoutMs} ms; events: ${JSON.stringify(this.events.slice(-12))}${this.#describe()}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}

/** A JSON line for an event, with bigints in decimal. */
export function eventLine(event: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify(
    { event, at: performance.timeOrigin + performance.now(), ...fields },
    (_, value) => (typeof value === "bigint" ? value.toString() : value),
  );
}
