// The campaign's ledger: one JSON line per event, appended by every process of a run (the
// nemesis, the candidates, the resource) to one file. Each line carries `t`, from
// `process.hrtime.bigint()`: CLOCK_MONOTONIC in nanoseconds, comparable across processes on
// one machine, so the checker can order what different processes saw.
import { appendFileSync, readFileSync } from "node:fs";

/** One line of the ledger. */
export interface LedgerEntry {
  /** CLOCK_MONOTONIC nanoseconds when it happened (for a check: just before it). */
  readonly t: bigint;
  /** Who wrote it: `nemesis`, `resource` or a candidate id. */
  readonly by: string;
  readonly event: string;
  readonly [field: string]: unknown;
}

/** Appends events to a ledger file; each line is one `write(2)` with O_APPEND, so lines from
 * several processes never interleave. */
export class LedgerWriter {
  readonly path: string;
  readonly by: string;

  constructor(path: string, by: string) {
    this.path = path;
    this.by = by;
  }

  /** Records `event` now, or at `t` when the moment was taken earlier. */
  record(event: string, fields: Record<string, unknown> = {}, t = process.hrtime.bigint()): void {
    appendFileSync(this.path, `${entryLine({ t, by: this.by, event, ...fields })}\n`);
  }
}

/** An entry as a JSON line, bigints as decimal strings. */
export function entryLine(entry: LedgerEntry): string {
  return JSON.stringify(entry, (_, value) =>
    typeof value === "bigint" ? value.toString() : value,
  );
}

/** Fields that hold bigints, turned back from their decimal strings when read. */
const bigintFields = new Set(["t", "token", "highest"]);

/** Parses one JSON line of a ledger. */
export function parseEntry(line: string): LedgerEntry {
  return JSON.parse(line, (key, value) =>
    bigintFields.has(key) && typeof value === "string" ? BigInt(value) : value,
  ) as LedgerEntry;
}

/** Every entry of a ledger file, in time order (the file is in order of append). */
export function readLedger(path: string): LedgerEntry[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map(parseEntry)
    .sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
}
