// Helpers shared by every benchmark: percentiles, tables, the machine they ran on.
import { cpus, totalmem } from "node:os";

/** The value at percentile `p` (0–100) of `samples`, by nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Milliseconds with two decimals. */
export function ms(value: number): string {
  return value.toFixed(2);
}

/** A Markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** One line that says where and when the numbers were taken. */
export function machine(): string {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  return `${new Date().toISOString()} · node ${process.version} · ${cpus().length} × ${cpu} · ${Math.round(totalmem() / 2 ** 30)} GiB`;
}

/** Resolves after `milliseconds`. */
export function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** One row of handoff results. */
export interface Row {
  readonly scenario: string;
  readonly candidates: number | string;
  readonly rounds: number;
  readonly p50: number;
  readonly p99: number;
  readonly note?: string;
}

/** A row from raw samples, in milliseconds. */
export function summarize(
  scenario: string,
  candidates: number | string,
  samples: readonly number[],
  note?: string,
): Row {
  return {
    scenario,
    candidates,
    rounds: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    ...(note === undefined ? {} : { note }),
  };
}

/** Prints rows as a Markdown table. */
export function printTable(rows: readonly Row[]): void {
  console.log(
    table(
      ["scenario", "candidates", "rounds", "p50 ms", "p99 ms", "note"],
      rows.map((row) => [
        row.scenario,
        String(row.candidates),
        String(row.rounds),
        ms(row.p50),
        ms(row.p99),
        row.note ?? "",
      ]),
    ),
  );
}
