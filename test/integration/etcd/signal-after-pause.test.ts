import { describe, expect, it } from "vitest";
import { type CandidateEvent, CandidateProcess } from "../../fixtures/candidate-process.js";
import { etcdForSuite } from "../../support/suite-servers.js";
import { uniqueElection } from "./helpers.js";

// Long enough that the leader keeps its lease while the successor's process starts on a busy
// machine: the test needs it frozen while it still leads.
const ttlSeconds = 5;
const ttlMs = ttlSeconds * 1000;
/** Starting a candidate process (tsx compiles the sources) takes a while on a busy machine. */
const startupMs = 20_000;

describe("a frozen etcd leader that checks only leadership.signal", () => {
  const etcd = etcdForSuite();
  const url = () => `etcd://${etcd().getHost()}:${etcd().getClientPort()}?ttl=${ttlSeconds}`;

  it("reads signal.aborted as true on its first read after SIGCONT, before any callback runs, and in every callback that sees the successor", async () => {
    const election = uniqueElection("signal-frozen");
    const env = { CHECK: "signal" };
    await using frozen = await CandidateProcess.start({ url: url(), election, id: "frozen", env });
    await frozen.waitFor((event) => event.event === "tick" && event.aborted === false, startupMs);
    await using successor = await CandidateProcess.start({ url: url(), election, id: "successor" });
    // The frozen leader's own observation sees the successor in line behind it.
    await successor.waitFor((event) => event.event === "ready", startupMs);
    await frozen.waitFor(
      (event) => event.event === "observed" && event.leader === "frozen",
      startupMs,
    );

    // Freeze it inside a synchronous loop that reads the signal, as a GC pause would.
    process.kill(frozen.pid, "SIGUSR2");
    const spinning = await frozen.waitFor((event) => event.event === "spinning", startupMs);
    expect(spinning.aborted, "the leader must still lead when it is frozen").toBe(false);
    const frozenAt = Date.now();
    frozen.freeze();
    // The successor can only be elected once the frozen leader's lease expired: a TTL, plus
    // the server's lease check and the successor's watch.
    await successor.waitFor((event) => event.event === "elected", ttlMs + 1500 + 1000);
    // Lines the process wrote before it froze may still be in the pipe: tell them by time.
    const thawedAt = Date.now();
    frozen.thaw();

    const resumed = (event: CandidateEvent) => event.at >= thawedAt;
    // The loop's first read after the gap. A freeze inside the loop makes it the first read of
    // all; one between two rounds lets a timer's tick come first, whose read the tick checks
    // below cover, so wait for the loop's own report rather than assume its order.
    const woke = await frozen
      .waitFor((event) => event.event === "woke" && resumed(event), ttlMs)
      .catch(() => undefined);
    // Ticks are left out of the story, but for the last few before the freeze and the first
    // after it: they tell whether the term had ended before the freeze.
    const ticks = frozen.events.filter((event) => event.event === "tick");
    const near = ticks.filter((event) => event.at >= frozenAt - 1000);
    const story = JSON.stringify(
      frozen.events.filter((event) => event.event !== "tick" || near.slice(0, 60).includes(event)),
    );
    const successorStory = JSON.stringify(
      successor.events.filter((event) => event.event !== "tick"),
    );
    expect(
      woke,
      `the first read of the signal after SIGCONT; frozen at ${frozenAt}, thawed at ${thawedAt}; events: ${story}; the successor's: ${successorStory}`,
    ).toMatchObject({
      aborted: true,
    });
    await frozen.waitFor(
      (event) => event.event === "observed" && event.leader === "successor" && resumed(event),
      ttlMs + 1000,
    );
    const firstTick = await frozen.waitFor(
      (event) => event.event === "tick" && resumed(event),
      ttlMs,
    );
    expect(firstTick.aborted).toBe(true);
    const after = frozen.events.filter(resumed);
    expect(after.filter((event) => event.event === "tick" && event.aborted !== true)).toEqual([]);
    expect(after.filter((event) => event.event === "observed" && event.aborted !== true)).toEqual(
      [],
    );
    expect(after.filter((event) => event.event === "elected")).toEqual([]);
  });
});
