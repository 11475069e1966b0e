// Helpers of the ZooKeeper backend's integration tests.
import type { Elector, Logger, LossReason } from "@elector/core";

/** What an elector reported, with `performance.now()` times. */
export interface Timeline {
  readonly events: { event: string; at: number; reason?: LossReason; cause?: string }[];
  /** The first `event` at or after index `from`, once it happened, within `timeoutMs`. */
  next(
    event: string,
    timeoutMs: number,
    from?: number,
  ): Promise<{ at: number; reason?: LossReason }>;
}

/** Records an elector's events with their times. */
export function timeline(elector: Elector): Timeline {
  const events: Timeline["events"] = [];
  const wakers = new Set<() => void>();
  const push = (entry: Timeline["events"][number]) => {
    events.push(entry);
    for (const wake of [...wakers]) wake();
  };
  elector.on("elected", () => push({ event: "elected", at: performance.now() }));
  elector.on("lost", ({ reason }) => push({ event: "lost", at: performance.now(), reason }));
  elector.on("suspended", ({ cause }) =>
    push({ event: "suspended", at: performance.now(), cause }),
  );
  elector.on("resumed", () => push({ event: "resumed", at: performance.now() }));
  return {
    events,
    next: (event, timeoutMs, from = 0) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = events.slice(from).find((entry) => entry.event === event);
          if (found === undefined) return;
          clearTimeout(timer);
          wakers.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          wakers.delete(check);
          reject(
            new Error(
              `${elector.id}: no ${event} within ${timeoutMs} ms; saw ${JSON.stringify(events)}`,
            ),
          );
        }, timeoutMs);
        wakers.add(check);
        check();
      }),
  };
}

/** One line a {@link recordingLogger} received. */
export interface LogLine {
  readonly bindings: Record<string, unknown>;
  readonly fields: Record<string, unknown>;
  readonly message: string | undefined;
}

/** A pino-shaped logger that keeps every line, with its child bindings. */
export function recordingLogger(lines: LogLine[], bindings: Record<string, unknown> = {}): Logger {
  const log =
    () =>
    (fieldsOrMessage: Record<string, unknown> | string, message?: string): void => {
      if (typeof fieldsOrMessage === "string") {
        lines.push({ bindings, fields: {}, message: fieldsOrMessage });
      } else {
        lines.push({ bindings, fields: fieldsOrMessage, message });
      }
    };
  return {
    debug: log(),
    info: log(),
    warn: log(),
    error: log(),
    child: (more) => recordingLogger(lines, { ...bindings, ...more }),
  };
}

/** Resolves with the abort time of `signal`, or rejects after `timeoutMs`. */
export function abortedWithin(signal: AbortSignal, timeoutMs: number): Promise<number> {
  if (signal.aborted) return Promise.resolve(performance.now());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not aborted within ${timeoutMs} ms`)),
      timeoutMs,
    );
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve(performance.now());
      },
      { once: true },
    );
  });
}
