import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OwnWrites } from "./own-writes.js";

type Outcome = "answered" | "lost-applied" | "lost-unapplied";

interface Proclaim {
  readonly value: string;
  readonly outcome: Outcome;
  sent: boolean;
  settled: boolean;
  revision: bigint | undefined;
}

interface Put {
  readonly revision: bigint;
  readonly value: string;
  readonly ours: boolean;
}

/**
 * Plays one history between a candidate and etcd: the candidate's proclaims, one after the
 * other, each answered, lost after etcd applied it, or lost before; puts by someone else (with
 * our lease and create revision, the hardest case) at any moment; and the watch delivering
 * every put in revision order, at any moment after it was applied. `choices` picks the next
 * step among those possible. The candidate judges each put as `CandidateKey` does.
 *
 * @returns the puts and the verdict on each, and the ledger.
 */
function play(proclaims: Proclaim[], foreignValues: string[], choices: number[]) {
  const writes = new OwnWrites<Put>();
  const created = 10n;
  let revision = created;
  writes.created(created);
  const applied: Put[] = [];
  let delivered = 0;
  const verdicts = new Map<bigint, "own" | "foreign">();
  const foreign = [...foreignValues];
  const judge = (put: Put) => {
    if (writes.isOwn(put.revision, put.value)) {
      writes.accept(put.revision);
      verdicts.set(put.revision, "own");
    } else if (writes.writing) {
      writes.hold(put);
    } else {
      verdicts.set(put.revision, "foreign");
    }
  };
  const apply = (value: string, ours: boolean) => {
    revision++;
    applied.push({ revision, value, ours });
    return revision;
  };
  let turn = 0;
  for (;;) {
    const steps: (() => void)[] = [];
    const current = proclaims.find((proclaim) => !proclaim.settled);
    const previous = proclaims.filter((proclaim) => proclaim.settled).at(-1);
    // A lost proclaim that etcd applies comes before the next own write: one connection.
    const lostInFlight =
      previous?.outcome === "lost-applied" && previous.revision === undefined
        ? previous
        : undefined;
    if (lostInFlight !== undefined) {
      steps.push(() => {
        lostInFlight.revision = apply(lostInFlight.value, true);
      });
    }
    const nextForeign = foreign[0];
    if (nextForeign !== undefined) {
      steps.push(() => {
        foreign.shift();
        apply(nextForeign, false);
      });
    }
    if (current !== undefined && !current.sent) {
      steps.push(() => {
        current.sent = true;
        writes.begin();
      });
    }
    if (
      current?.sent === true &&
      current.revision === undefined &&
      current.outcome !== "lost-unapplied" &&
      lostInFlight === undefined
    ) {
      steps.push(() => {
        current.revision = apply(current.value, true);
      });
    }
    if (
      current?.sent === true &&
      (current.outcome !== "answered" || current.revision !== undefined)
    ) {
      steps.push(() => {
        current.settled = true;
        if (current.outcome === "answered") writes.answered(current.revision as bigint);
        else writes.unanswered(current.value);
        for (const held of writes.end()) judge(held);
      });
    }
    const next = applied[delivered];
    if (next !== undefined) {
      steps.push(() => {
        delivered++;
        judge(next);
      });
    }
    if (steps.length === 0) break;
    const step = steps[(choices[turn] ?? 0) % steps.length] as () => void;
    turn++;
    step();
  }
  return { applied, verdicts, writes };
}

const proclaimsArbitrary = fc.array(
  fc.record({
    value: fc.constantFrom("a", "b", "c"),
    outcome: fc.constantFrom<Outcome>("answered", "lost-applied", "lost-unapplied"),
  }),
  { maxLength: 8 },
);

describe("OwnWrites", () => {
  it("takes every put of ours for its own and no put of anyone else's, in any order of answers and watch events", () => {
    fc.assert(
      fc.property(
        proclaimsArbitrary,
        fc.array(fc.constantFrom("x", "y"), { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 80 }),
        (specs, foreignValues, choices) => {
          const proclaims = specs.map((spec) => ({
            ...spec,
            sent: false,
            settled: false,
            revision: undefined,
          }));
          const { applied, verdicts, writes } = play(proclaims, foreignValues, choices);
          for (const put of applied) {
            expect(verdicts.get(put.revision), `put ${put.value} at ${put.revision}`).toBe(
              put.ours ? "own" : "foreign",
            );
          }
          expect(writes.writing).toBe(false);
          // Lost proclaims are forgotten once a later answered write is seen.
          const last = applied.at(-1)?.revision ?? 10n;
          writes.begin();
          writes.answered(last + 1n);
          expect(writes.end()).toEqual([]);
          expect(writes.isOwn(last + 1n, "z")).toBe(true);
          writes.accept(last + 1n);
          expect(writes.unansweredCount).toBe(0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("does not take a put of a lost proclaim's value for its own once a later answered write was applied", () => {
    const writes = new OwnWrites<never>();
    writes.created(10n);
    writes.unanswered("a");
    writes.answered(12n);
    expect(writes.isOwn(11n, "a")).toBe(true);
    expect(writes.isOwn(13n, "a")).toBe(false);
    writes.accept(12n);
    expect(writes.isOwn(11n, "a")).toBe(false);
    expect(writes.unansweredCount).toBe(0);
  });
});
