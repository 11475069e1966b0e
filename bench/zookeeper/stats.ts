// Percentiles and printing for the ZooKeeper benchmarks.

/** Nearest-rank percentile of `samples` (milliseconds), `p` from 0 to 100. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** One row of results. */
export interface Row {
  readonly scenario: string;
  readonly candidates: number | string;
  readonly rounds: number;
  readonly p50: number;
  readonly p99: number;
  readonly note?: string;
}

/** A row from raw samples. */
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
  const format = (ms: number) => ms.toFixed(2);
  console.log("| scenario | candidates | rounds | p50 ms | p99 ms | note |");
  console.log("|---|---:|---:|---:|---:|---|");
  for (const row of rows) {
    console.log(
      `| ${row.scenario} | ${row.candidates} | ${row.rounds} | ${format(row.p50)} | ${format(row.p99)} | ${row.note ?? ""} |`,
    );
  }
}
