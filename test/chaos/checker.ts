// Reads a run's ledger, and what was left once every process had closed, and says what went
// wrong: each property of issue 13 as a class of violations, plus the failover figures.
import type { LedgerEntry } from "./ledger.js";

/** One write the resource holds at the end of the run (its GET /entries). */
export interface HeldWrite {
  readonly cand: string;
  readonly pid: number;
  readonly seq: number;
  readonly token: string;
}

/** What the run found once everything was closed. */
export interface FinalState {
  /** The resource's log, or undefined if it could not be read. */
  readonly held: readonly HeldWrite[] | undefined;
  /** Keys or znodes left under the run's root. */
  readonly nodes: readonly string[];
  /** Leases still alive. */
  readonly leases: readonly string[];
}

export const violationClasses = [
  "overlap",
  "stale write admitted",
  "acknowledged write lost",
  "orphan key or znode",
  "leaked lease",
  "token regression",
  "process crash",
  "elected after close",
] as const;

export type ViolationClass = (typeof violationClasses)[number];

export interface Violation {
  readonly kind: ViolationClass;
  readonly message: string;
}

/** Failover after the faults of one kind. */
export interface FailoverFigures {
  readonly kind: string;
  readonly faults: number;
  /** Faults after which a term with a greater token began before the next fault. */
  readonly deposed: number;
  readonly medianMs: number | undefined;
  readonly p90Ms: number | undefined;
}

export interface CheckResult {
  readonly violations: readonly Violation[];
  readonly failover: readonly FailoverFigures[];
  readonly terms: number;
  readonly writes: { readonly acknowledged: number; readonly refused: number };
  /** Faults after which no leader wrote within the settle bound (liveness, not safety). */
  readonly stalls: number;
  /** How oversized campaigns and proclaims ended, by outcome. */
  readonly oversized: Readonly<Record<string, number>>;
}

const ms = (nanoseconds: bigint) => Number(nanoseconds / 1_000n) / 1_000;
const str = (value: unknown) => String(value);

/** Checks every property over `entries` (in time order) and the final state. */
export function check(entries: readonly LedgerEntry[], final: FinalState): CheckResult {
  const violations: Violation[] = [];
  const add = (kind: ViolationClass, message: string) => violations.push({ kind, message });

  // Overlaps and token regressions: sweep in time order, holding the greatest token elected.
  let greatest: LedgerEntry | undefined;
  const acted = new Set<string>();
  for (const entry of entries) {
    if (entry.event === "check" && (entry.active === true || entry.aborted === false)) {
      acted.add(`${entry.pid}:${entry.token}`);
    }
  }
  const closedAt = new Map<string, bigint>();
  for (const entry of entries) {
    const term = `${entry.pid}:${entry.token}`;
    if (entry.event === "elected") {
      const token = entry.token as bigint;
      if (greatest !== undefined && token <= (greatest.token as bigint) && acted.has(term)) {
        add(
          "token regression",
          `${entry.by} (pid ${entry.pid}) was elected with token ${token} and acted on it after ${greatest.by} (pid ${greatest.pid}) had been elected with token ${greatest.token}`,
        );
      }
      const closed = closedAt.get(`${entry.pid}:${entry.gen}`);
      if (closed !== undefined) {
        add(
          "elected after close",
          `${entry.by} (pid ${entry.pid}) was elected with token ${token} ${ms(entry.t - closed)} ms after its elector (generation ${entry.gen}) was closed`,
        );
      }
      if (greatest === undefined || token > (greatest.token as bigint)) greatest = entry;
    } else if (entry.event === "close-requested") {
      closedAt.set(`${entry.pid}:${entry.gen}`, entry.t);
    } else if (entry.event === "check" && greatest !== undefined) {
      const token = entry.token as bigint;
      const leading = entry.active === true || entry.aborted === false;
      if (leading && (greatest.token as bigint) > token) {
        add(
          "overlap",
          `${entry.by} (pid ${entry.pid}) saw isActive() ${entry.active} and signal.aborted ${entry.aborted} with token ${token}, ${ms(entry.t - greatest.t)} ms after ${greatest.by} (pid ${greatest.pid}) was elected with token ${greatest.token}`,
        );
      }
    }
  }

  // Stale writes: the resource applies in order, so its tokens must never go down.
  let highest: LedgerEntry | undefined;
  for (const entry of entries) {
    if (entry.by !== "resource" || entry.event !== "applied") continue;
    const token = entry.token as bigint;
    if (highest !== undefined && token < (highest.token as bigint)) {
      add(
        "stale write admitted",
        `the resource applied ${entry.cand} (pid ${entry.pid}) write ${entry.seq} with token ${token}${entry.fenced === false ? " (unfenced)" : ""} after it had applied token ${highest.token}`,
      );
    }
    if (highest === undefined || token >= (highest.token as bigint)) highest = entry;
  }

  // Acknowledged writes: each must be in the resource's final log.
  const acks = entries.filter((entry) => entry.event === "ack");
  if (final.held === undefined) {
    if (acks.length > 0) {
      add(
        "acknowledged write lost",
        `the resource's log could not be read; ${acks.length} writes were acknowledged`,
      );
    }
  } else {
    const held = new Map(final.held.map((write) => [`${write.pid}:${write.seq}`, write.token]));
    for (const ack of acks) {
      const token = held.get(`${ack.pid}:${ack.seq}`);
      if (token !== str(ack.token)) {
        add(
          "acknowledged write lost",
          `${ack.by} (pid ${ack.pid}) write ${ack.seq} with token ${ack.token} was acknowledged but the resource holds ${token === undefined ? "nothing" : `token ${token}`} for it`,
        );
      }
    }
  }

  for (const node of final.nodes)
    add("orphan key or znode", `${node} remains after every candidate closed`);
  for (const lease of final.leases)
    add("leaked lease", `${lease} remains after every candidate closed`);

  for (const entry of entries) {
    if (entry.event === "crash") {
      add("process crash", `${entry.by} (pid ${entry.pid}) crashed: ${entry.message}`);
    } else if (entry.event === "exit" && entry.expected === false) {
      add(
        "process crash",
        `${entry.cand} (pid ${entry.pid}) exited with ${entry.code ?? entry.signal}${entry.why === undefined ? "" : ` (${entry.why})`}`,
      );
    }
  }

  const oversized: Record<string, number> = {};
  for (const entry of entries) {
    if (entry.event !== "oversized") continue;
    const outcome = `${entry.call}: ${str(entry.outcome).split(":")[0]}`;
    oversized[outcome] = (oversized[outcome] ?? 0) + 1;
  }

  return {
    violations,
    failover: failoverFigures(entries),
    terms: entries.filter((entry) => entry.event === "elected").length,
    writes: {
      acknowledged: acks.length,
      refused: entries.filter((entry) => entry.event === "refused" && entry.by !== "resource")
        .length,
    },
    stalls: entries.filter((entry) => entry.event === "settled" && entry.ok === false).length,
    oversized,
  };
}

/**
 * Per fault kind: how long from the fault's start until a term with a greater token than
 * the one leading at the start began, for the faults after which one did before the next.
 */
export function failoverFigures(entries: readonly LedgerEntry[]): FailoverFigures[] {
  const faults = entries.filter((entry) => entry.event === "fault");
  const elected = entries.filter((entry) => entry.event === "elected");
  const byKind = new Map<string, { faults: number; times: number[] }>();
  faults.forEach((fault, index) => {
    const next = faults[index + 1]?.t;
    const figures = byKind.get(str(fault.kind)) ?? { faults: 0, times: [] };
    byKind.set(str(fault.kind), figures);
    figures.faults++;
    const before = fault.leaderToken === undefined ? undefined : BigInt(str(fault.leaderToken));
    if (before === undefined) return;
    const successor = elected.find(
      (entry) =>
        entry.t > fault.t &&
        (next === undefined || entry.t < next) &&
        (entry.token as bigint) > before,
    );
    if (successor !== undefined) figures.times.push(ms(successor.t - fault.t));
  });
  return [...byKind.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, { faults: count, times }]) => ({
      kind,
      faults: count,
      deposed: times.length,
      medianMs: quantile(times, 0.5),
      p90Ms: quantile(times, 0.9),
    }));
}

/** The `q` quantile by the nearest-rank method, or undefined for no samples. */
export function quantile(samples: readonly number[], q: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** The report of one backend's run, as lines. */
export function formatReport(result: CheckResult, shown = 5): string[] {
  const lines: string[] = [];
  lines.push(
    `  ${result.terms} terms, ${result.writes.acknowledged} writes acknowledged, ${result.writes.refused} refused by the fence, ${result.stalls} faults without a leader writing within the settle bound`,
  );
  if (Object.keys(result.oversized).length > 0) {
    lines.push(
      `  oversized values: ${Object.entries(result.oversized)
        .map(([outcome, count]) => `${outcome} ×${count}`)
        .join(", ")}`,
    );
  }
  lines.push("  failover by fault kind (from the fault to a greater token elected):");
  lines.push(
    `    ${"kind".padEnd(18)} ${"faults".padStart(6)} ${"deposed".padStart(8)} ${"median".padStart(9)} ${"p90".padStart(9)}`,
  );
  const fmt = (value: number | undefined) =>
    value === undefined ? "-" : `${Math.round(value)} ms`;
  for (const figures of result.failover) {
    lines.push(
      `    ${figures.kind.padEnd(18)} ${String(figures.faults).padStart(6)} ${String(figures.deposed).padStart(8)} ${fmt(figures.medianMs).padStart(9)} ${fmt(figures.p90Ms).padStart(9)}`,
    );
  }
  for (const kind of violationClasses) {
    const found = result.violations.filter((violation) => violation.kind === kind);
    lines.push(`  ${kind}: ${found.length}`);
    for (const violation of found.slice(0, shown)) lines.push(`    - ${violation.message}`);
    if (found.length > shown) lines.push(`    … and ${found.length - shown} more`);
  }
  return lines;
}
