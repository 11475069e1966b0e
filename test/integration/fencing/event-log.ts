import type { ReportedEvent } from "../../fixtures/event-log.js";

/**
 * One line a writer reported; `at` is `performance.timeOrigin + performance.now()` in the
 * reporting process, in ms.
 */
export type WriterEvent = ReportedEvent;

/** A JSON line for an event, with bigints in decimal. */
export function eventLine(event: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify(
    { event, at: performance.timeOrigin + performance.now(), ...fields },
    (_, value) => (typeof value === "bigint" ? value.toString() : value),
  );
}
