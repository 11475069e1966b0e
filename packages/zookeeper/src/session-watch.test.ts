import { type LossReason, silentLogger } from "@elector/core";
import type { TermControl } from "@elector/core/backend";
import { describe, expect, it } from "vitest";
import { rc } from "./binding.js";
import { fakeBinding } from "./fake-binding.test-support.js";
import { Session } from "./session.js";
import { SessionWatch } from "./session-watch.js";

/** A TermControl that records what the watch tells it, as core's Term would act on it. */
function recordingTerm() {
  const controller = new AbortController();
  const events: string[] = [];
  let suspended = false;
  let deadline = Number.NEGATIVE_INFINITY;
  let deadlineLoss: { reason: LossReason; describe: () => string } | undefined;
  const term: TermControl = {
    signal: controller.signal,
    extendDeadline: (at) => {
      deadline = Math.max(deadline, at);
    },
    nameDeadlineLoss: (reason, describe) => {
      deadlineLoss = { reason, describe };
    },
    predecessorGone: () => {},
    lose: (reason) => {
      if (controller.signal.aborted) return;
      events.push(`lost:${reason}`);
      controller.abort();
    },
    suspend: () => {
      if (suspended || controller.signal.aborted) return;
      suspended = true;
      events.push("suspended");
    },
    resume: () => {
      if (!suspended || controller.signal.aborted) return;
      suspended = false;
      events.push("resumed");
    },
  };
  return {
    term,
    events,
    get deadline() {
      return deadline;
    },
    get deadlineLoss() {
      return deadlineLoss;
    },
    /** Resolves once `events` has `count` entries. */
    until: (count: number) =>
      new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (events.length >= count) {
            clearInterval(poll);
            resolve();
          }
        }, 5);
      }),
  };
}

function connected(timeoutMs: number) {
  const { Binding, handles } = fakeBinding();
  const session = new Session(Binding, {
    connect: "zk:2181",
    requestedTimeoutMs: timeoutMs,
    logger: silentLogger,
  });
  const handle = handles[0];
  if (handle === undefined) throw new Error("no handle");
  handle.connect("5e55", timeoutMs);
  return { session, handle, handles };
}

describe("SessionWatch", () => {
  it("moves the deadline to each answer's send time + the negotiated timeout − the margin", () => {
    const { session, handle } = connected(4000);
    const recorded = recordingTerm();
    const watch = new SessionWatch(session, recorded.term, 500);
    const before = performance.now();
    void session.delete("/e/n").catch(() => {});
    const after = performance.now();
    handle.next("delete").answer(rc.ok);
    expect(recorded.deadline).toBeGreaterThanOrEqual(before + 3500);
    expect(recorded.deadline).toBeLessThanOrEqual(after + 3500);
    watch.stop();
    session.close();
  });

  it("suspends the term at once on a disconnect and resumes it only after an answer within the session", async () => {
    const { session, handle } = connected(4000);
    handle.next("sync").answer(rc.ok, "/");
    const recorded = recordingTerm();
    const watch = new SessionWatch(session, recorded.term, 500);
    handle.dropConnection();
    expect(recorded.events).toEqual(["suspended"]);
    handle.connect("5e55", 4000);
    expect(recorded.events).toEqual(["suspended"]);
    handle.next("sync").answer(rc.ok, "/");
    await recorded.until(2);
    expect(recorded.events).toEqual(["suspended", "resumed"]);
    watch.stop();
    session.close();
  });

  it("suspends the term when a heartbeat goes unanswered for a third of the session timeout", async () => {
    const timeoutMs = 300;
    const { session, handle } = connected(timeoutMs);
    handle.next("sync").answer(rc.ok, "/");
    const recorded = recordingTerm();
    const watch = new SessionWatch(session, recorded.term, 50);
    // The next beat goes out after timeout/3 and is never answered; the one after finds it due.
    const start = performance.now();
    await recorded.until(1);
    expect(recorded.events[0]).toBe("suspended");
    expect(performance.now() - start).toBeLessThan(timeoutMs);
    handle.next("sync").answer(rc.ok, "/");
    await recorded.until(2);
    expect(recorded.events).toEqual(["suspended", "resumed"]);
    watch.stop();
    session.close();
  });

  it("names a deadline passed in silence connection-lost, saying how long the server was silent", async () => {
    const { session, handle } = connected(300);
    handle.next("sync").answer(rc.ok, "/");
    const recorded = recordingTerm();
    const watch = new SessionWatch(session, recorded.term, 50);
    await recorded.until(1);
    expect(recorded.events).toEqual(["suspended"]);
    expect(recorded.deadlineLoss?.reason).toBe("connection-lost");
    expect(recorded.deadlineLoss?.describe()).toMatch(
      /^ZooKeeper has not answered for \d+ ms, longer than the session timeout \(300 ms\) less the safety margin \(50 ms\)/,
    );
    watch.stop();
    session.close();
  });

  it("ends the term with session-expired when the server refuses to resume the session", () => {
    const { session, handle, handles } = connected(4000);
    const recorded = recordingTerm();
    const watch = new SessionWatch(session, recorded.term, 500);
    handle.closeItself(-112);
    handles[1]?.closeItself(-112);
    expect(recorded.events).toEqual(["suspended", "lost:session-expired"]);
    watch.stop();
  });
});
