import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { Clocks } from "./clocks.js";
import type { ElectedTerm } from "./driver.js";
import { createMemoryElector, type MemoryElector } from "./memory/memory-elector.js";
import { Term, type TermObserver } from "./term.js";

/** Clocks that move only when the test moves them. */
class ManualClocks implements Clocks {
  mono = 1_000;
  wallMs = 1_700_000_000_000;

  monotonic(): number {
    return this.mono;
  }

  wall(): number {
    return this.wallMs;
  }

  /** Both clocks advance together, as they do while the machine runs. */
  advance(ms: number): void {
    this.mono += ms;
    this.wallMs += ms;
  }
}

const observer: TermObserver = {
  elected: () => {},
  ended: () => {},
  suspended: () => {},
  resumed: () => {},
  renewed: () => {},
  releasing: () => {},
  releaseFailed: () => {},
};

const elected: ElectedTerm = {
  token: 1n,
  proclaim: async () => {},
  release: async () => {},
};

const terms: Term[] = [];

/** A won term on manual clocks whose deadline is `ttlMs` ahead. */
function wonTerm(clocks: ManualClocks, ttlMs: number): Term {
  const term = new Term("e", "me", observer, clocks);
  terms.push(term);
  term.extendDeadline(clocks.mono + ttlMs);
  term.start(elected);
  return term;
}

/** Blocks the event loop, as a long GC pause or a SIGSTOP blocks a process. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: no timer or I/O callback runs meanwhile
  }
}

const open: MemoryElector[] = [];

afterEach(async () => {
  for (const term of terms.splice(0)) term.end("closed", "test over");
  await Promise.all(open.splice(0).map((elector) => elector.close()));
});

describe("a term's signal", () => {
  it("reads as aborted on the first read after the loop was blocked past the deadline, before any timer runs", async () => {
    const elector = createMemoryElector({ election: "jobs", name: "term-signal-1", ttlMs: 300 });
    open.push(elector);
    const leadership = await elector.campaign();
    expect(leadership.signal.aborted).toBe(false);
    stall(leadership.deadline() - performance.now() + 20);
    // Only the signal is read: no isActive() call has run the check.
    expect(leadership.signal.aborted).toBe(true);
    expect(leadership.signal.reason).toMatchObject({ code: "deadline-passed" });
  });

  it("throws from throwIfAborted() on the first call after the loop was blocked past the deadline", async () => {
    const elector = createMemoryElector({ election: "jobs", name: "term-signal-2", ttlMs: 300 });
    open.push(elector);
    const leadership = await elector.campaign();
    stall(leadership.deadline() - performance.now() + 20);
    expect(() => leadership.signal.throwIfAborted()).toThrow(
      expect.objectContaining({ name: "LeadershipLostError", code: "deadline-passed" }),
    );
  });

  it("shows the loss to Node's APIs that read aborted on entry, such as timers/promises", async () => {
    const elector = createMemoryElector({ election: "jobs", name: "term-signal-3", ttlMs: 300 });
    open.push(elector);
    const leadership = await elector.campaign();
    stall(leadership.deadline() - performance.now() + 20);
    await expect(sleep(60_000, undefined, { signal: leadership.signal })).rejects.toMatchObject({
      name: "AbortError",
      cause: expect.objectContaining({ code: "deadline-passed" }),
    });
  });

  it("hands a signal read past the deadline on aborted, to AbortSignal.any on every Node line", async () => {
    const elector = createMemoryElector({ election: "jobs", name: "term-signal-5", ttlMs: 300 });
    open.push(elector);
    const leadership = await elector.campaign();
    stall(leadership.deadline() - performance.now() + 20);
    // Node 24's AbortSignal.any reads the internal flag, not `aborted`: read it first.
    expect(leadership.signal.aborted).toBe(true);
    expect(AbortSignal.any([leadership.signal]).aborted).toBe(true);
  });

  it("tells abort listeners of a loss found by a read, once", async () => {
    const elector = createMemoryElector({ election: "jobs", name: "term-signal-4", ttlMs: 300 });
    open.push(elector);
    const leadership = await elector.campaign();
    let heard = 0;
    leadership.signal.addEventListener("abort", () => heard++);
    stall(leadership.deadline() - performance.now() + 20);
    expect(leadership.signal.aborted).toBe(true);
    expect(leadership.signal.aborted).toBe(true);
    expect(heard).toBe(1);
  });
});

describe("a term's deadline on two clocks", () => {
  it("passes when the wall clock passes it, though the monotonic clock stood still (a suspend)", () => {
    const clocks = new ManualClocks();
    const term = wonTerm(clocks, 1_000);
    clocks.advance(500);
    expect(term.isActive()).toBe(true);
    // A system suspend: CLOCK_MONOTONIC stops, the wall clock does not.
    clocks.wallMs += 600;
    expect(term.signal.aborted).toBe(true);
    expect(term.isActive()).toBe(false);
    expect(term.signal.reason).toMatchObject({ code: "deadline-passed" });
  });

  it("passes when the monotonic clock passes it, though the wall clock was set back", () => {
    const clocks = new ManualClocks();
    const term = wonTerm(clocks, 1_000);
    clocks.wallMs -= 60_000;
    clocks.advance(999);
    expect(term.isActive()).toBe(true);
    clocks.advance(1);
    expect(term.isActive()).toBe(false);
  });

  it("does not move the deadline later for a renewal acknowledged after the wall clock went back", () => {
    const clocks = new ManualClocks();
    const term = wonTerm(clocks, 1_000);
    clocks.wallMs -= 60_000;
    clocks.advance(300);
    term.extendDeadline(clocks.mono + 1_000);
    // The new deadline counts on both clocks from where they are now; a suspend still shows.
    clocks.wallMs += 1_000;
    expect(term.isActive()).toBe(false);
  });

  it("counts a suspend between a renewal's send and its acknowledgement", () => {
    const clocks = new ManualClocks();
    const term = wonTerm(clocks, 1_000);
    const sentAt = clocks.mono;
    // Suspended for a minute after the send; the acknowledgement is handled on resume.
    clocks.wallMs += 60_000;
    clocks.advance(5);
    term.extendDeadline(sentAt + 1_000);
    expect(term.isActive()).toBe(false);
  });

  it("does not add up the small steps that correct a synchronised wall clock over a long term", () => {
    const clocks = new ManualClocks();
    const term = wonTerm(clocks, 1_000);
    // 100 renewals, with the wall clock stepped 100 ms forward before each: 10 s in all.
    for (let renewal = 0; renewal < 100; renewal++) {
      clocks.advance(300);
      clocks.wallMs += 100;
      term.extendDeadline(clocks.mono + 1_000);
    }
    expect(term.isActive()).toBe(true);
    // A step larger than what is left before the deadline still ends the term.
    clocks.wallMs += 1_000;
    expect(term.isActive()).toBe(false);
  });

  it("refuses a campaign won after the wall clock passed its deadline", () => {
    const clocks = new ManualClocks();
    const term = new Term("e", "me", observer, clocks);
    terms.push(term);
    term.extendDeadline(clocks.mono + 1_000);
    clocks.wallMs += 2_000;
    term.start(elected);
    expect(term.signal.aborted).toBe(true);
    expect(term.isActive()).toBe(false);
  });
});
