import { describe, expect, it } from "vitest";
import { check, type FinalState, failoverFigures, quantile } from "./checker.js";
import { entryLine, type LedgerEntry, parseEntry } from "./ledger.js";

/** A ledger written by hand: `ms` is the moment in milliseconds. */
function ledger(
  ...lines: [ms: number, by: string, event: string, fields?: Record<string, unknown>][]
): LedgerEntry[] {
  return lines
    .map(([ms, by, event, fields]) =>
      // Through the JSON form, as the checker reads a real ledger.
      parseEntry(entryLine({ t: BigInt(ms) * 1_000_000n, by, event, ...fields })),
    )
    .sort((a, b) => (a.t < b.t ? -1 : 1));
}

const clean: FinalState = { held: [], nodes: [], leases: [] };

/** A healthy handover: c1 leads with token 5, notices its loss, c2 is elected with 7. */
const healthy = () =>
  ledger(
    [0, "c1", "elected", { pid: 1, token: 5n, gen: 1 }],
    [10, "c1", "check", { pid: 1, token: 5n, gen: 1, active: true, aborted: false }],
    [11, "c1", "write", { pid: 1, token: 5n, seq: 1 }],
    [12, "resource", "applied", { cand: "c1", pid: 1, seq: 1, token: 5n, fenced: true }],
    [13, "c1", "ack", { pid: 1, token: 5n, seq: 1 }],
    [50, "nemesis", "fault", { n: 1, kind: "pause-candidate", leader: "c1", leaderToken: "5" }],
    [2_000, "c2", "elected", { pid: 2, token: 7n, gen: 1 }],
    [2_010, "c2", "check", { pid: 2, token: 7n, gen: 1, active: true, aborted: false }],
    [2_011, "resource", "applied", { cand: "c2", pid: 2, seq: 1, token: 7n, fenced: true }],
    [2_012, "c2", "ack", { pid: 2, token: 7n, seq: 1 }],
    [2_100, "c1", "check", { pid: 1, token: 5n, gen: 1, active: false, aborted: true }],
    [2_101, "c1", "term-end", { pid: 1, token: 5n, gen: 1 }],
  );

const healthyHeld: FinalState = {
  held: [
    { cand: "c1", pid: 1, seq: 1, token: "5" },
    { cand: "c2", pid: 2, seq: 1, token: "7" },
  ],
  nodes: [],
  leases: [],
};

describe("the chaos checker", () => {
  it("finds nothing in a healthy handover", () => {
    const result = check(healthy(), healthyHeld);
    expect(result.violations).toEqual([]);
    expect(result.terms).toBe(2);
    expect(result.writes.acknowledged).toBe(2);
  });

  it("reports an overlap when a deposed leader still sees isActive() true, or its signal not aborted", () => {
    const entries = [
      ...healthy(),
      ...ledger(
        [2_050, "c1", "check", { pid: 1, token: 5n, gen: 1, active: true, aborted: true }],
        [2_060, "c1", "check", { pid: 1, token: 5n, gen: 1, active: false, aborted: false }],
      ),
    ].sort((a, b) => (a.t < b.t ? -1 : 1));
    const overlaps = check(entries, healthyHeld).violations.filter((v) => v.kind === "overlap");
    expect(overlaps).toHaveLength(2);
    expect(overlaps[0]?.message).toMatch(
      /c1 \(pid 1\) saw isActive\(\) true .* token 5, 50 ms after c2 \(pid 2\) was elected with token 7/,
    );
  });

  it("does not call a check made before the successor's election an overlap", () => {
    const entries = ledger(
      [0, "c1", "elected", { pid: 1, token: 5n, gen: 1 }],
      [1_999, "c1", "check", { pid: 1, token: 5n, gen: 1, active: true, aborted: false }],
      [2_000, "c2", "elected", { pid: 2, token: 7n, gen: 1 }],
    );
    expect(check(entries, clean).violations).toEqual([]);
  });

  it("reports a stale write that the resource admitted, as a broken unfenced writer makes", () => {
    const entries = [
      ...healthy(),
      ...ledger([
        2_200,
        "resource",
        "applied",
        { cand: "c1", pid: 1, seq: 2, token: 5n, fenced: false },
      ]),
    ];
    const stale = check(entries, healthyHeld).violations.filter(
      (v) => v.kind === "stale write admitted",
    );
    expect(stale.map((v) => v.message)).toEqual([
      "the resource applied c1 (pid 1) write 2 with token 5 (unfenced) after it had applied token 7",
    ]);
  });

  it("reports an acknowledged write the resource no longer holds, or holds with another token", () => {
    const result = check(healthy(), {
      ...clean,
      held: [{ cand: "c1", pid: 1, seq: 1, token: "4" }],
    });
    expect(
      result.violations.filter((v) => v.kind === "acknowledged write lost").map((v) => v.message),
    ).toEqual([
      "c1 (pid 1) write 1 with token 5 was acknowledged but the resource holds token 4 for it",
      "c2 (pid 2) write 1 with token 7 was acknowledged but the resource holds nothing for it",
    ]);
    expect(check(healthy(), { ...clean, held: undefined }).violations.map((v) => v.kind)).toEqual([
      "acknowledged write lost",
    ]);
  });

  it("reports orphan keys and leaked leases left after close", () => {
    const result = check(healthy(), {
      ...healthyHeld,
      nodes: ["chaos-1/chaos/694d"],
      leases: ["lease 7587 (TTL 2 s)"],
    });
    expect(result.violations.map((v) => v.kind)).toEqual(["orphan key or znode", "leaked lease"]);
  });

  it("reports a token that did not grow when its term acted, and a duplicate token", () => {
    const entries = [
      ...healthy(),
      ...ledger(
        [3_000, "c3", "elected", { pid: 3, token: 7n, gen: 1 }],
        [3_001, "c3", "check", { pid: 3, token: 7n, gen: 1, active: true, aborted: false }],
      ),
    ];
    const found = check(entries, healthyHeld).violations;
    expect(found.map((v) => v.kind)).toEqual(["token regression"]);
    expect(found[0]?.message).toMatch(
      /c3 \(pid 3\) was elected with token 7 and acted on it after c2 \(pid 2\) had been elected with token 7/,
    );
  });

  it("does not call a late 'elected' a regression when that term never acted", () => {
    const entries = [
      ...healthy(),
      ...ledger(
        [3_000, "c3", "elected", { pid: 3, token: 6n, gen: 1 }],
        [3_001, "c3", "check", { pid: 3, token: 6n, gen: 1, active: false, aborted: true }],
      ),
    ];
    expect(check(entries, healthyHeld).violations).toEqual([]);
  });

  it("reports crashes and unexpected exits, not the nemesis's kills", () => {
    const entries = [
      ...healthy(),
      ...ledger(
        [3_000, "c3", "crash", { pid: 3, message: "TypeError: boom" }],
        [3_001, "nemesis", "exit", { cand: "c3", pid: 3, code: 70, signal: null, expected: false }],
        [
          3_002,
          "nemesis",
          "exit",
          { cand: "c1", pid: 1, code: null, signal: "SIGKILL", expected: true },
        ],
      ),
    ];
    expect(check(entries, healthyHeld).violations.map((v) => v.message)).toEqual([
      "c3 (pid 3) crashed: TypeError: boom",
      "c3 (pid 3) exited with 70",
    ]);
  });

  it("reports an election won by an elector after it was closed", () => {
    const entries = [
      ...healthy(),
      ...ledger(
        [3_000, "c3", "close-requested", { pid: 3, gen: 2 }],
        [3_500, "c3", "elected", { pid: 3, token: 9n, gen: 2 }],
        [3_600, "c3", "elected", { pid: 3, token: 11n, gen: 3 }],
      ),
    ];
    expect(check(entries, healthyHeld).violations.map((v) => v.message)).toEqual([
      "c3 (pid 3) was elected with token 9 500 ms after its elector (generation 2) was closed",
    ]);
  });

  it("measures failover per fault kind from the fault to a greater token elected", () => {
    const figures = failoverFigures(
      [
        ...healthy(),
        ...ledger(
          [5_000, "nemesis", "fault", { n: 2, kind: "reset", leader: "c2", leaderToken: "7" }],
          [6_000, "nemesis", "fault", { n: 3, kind: "reset", leader: "c2", leaderToken: "7" }],
          [6_500, "c1", "elected", { pid: 1, token: 9n, gen: 1 }],
        ),
      ].sort((a, b) => (a.t < b.t ? -1 : 1)),
    );
    expect(figures).toEqual([
      { kind: "pause-candidate", faults: 1, deposed: 1, medianMs: 1_950, p90Ms: 1_950 },
      { kind: "reset", faults: 2, deposed: 1, medianMs: 500, p90Ms: 500 },
    ]);
    expect(quantile([5, 1, 4, 2, 3, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(quantile([], 0.5)).toBeUndefined();
  });
});
