import { type LossReason, silentLogger } from "@elector/core";
import type { TermControl } from "@elector/core/backend";
import { describe, expect, it } from "vitest";
import { fakeClients } from "./fake-client.test-support.js";
import { codes as rc } from "./protocol/codes.js";
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

function connected(timeoutMs: number, safetyMarginMs = 500) {
  const { createClient, clients } = fakeClients();
  const session = new Session(createClient, {
    servers: ["zk:2181"],
    requestedTimeoutMs: timeoutMs,
    safetyMarginMs,
    logger: silentLogger,
  });
  const handle = clients[0];
  if (handle === undefined) throw new Error("no client");
  handle.connect("5e55", timeoutMs);
  return { session, handle };
}

describe("SessionWatch", () => {
  it("moves the deadline to each answer's send time + the negotiated timeout − the margin", () => {
    const { session, handle } = connected(4000);
    const recorded = recordingTerm();
    const watch = new SessionWatch(session, recorded.term);
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
    handle.next("sync").answer(rc.ok);
    const recorded = recordingTerm();
    const watch = new SessionWatch(session, recorded.term);
    handle.dropConnection();
    expect(recorded.events).toEqual(["suspended"]);
    handle.connect("5e55", 4000);
    expect(recorded.events).toEqual(["suspended"]);
    handle.next("sync").answer(rc.ok);
    await recorded.until(2);
    expect(recorded.events).toEqual(["suspended", "resumed"]);
    watch.stop();
    session.close();
  });

  it("suspends the term when a heartbeat goes unanswered for three quarters of the timeout less the margin", async () => {
    const timeoutMs = 1500;
    const { session, handle } = connected(timeoutMs, 300);
    handle.next("sync").answer(rc.ok);
    const recorded = recordingTerm();
    const watch = new SessionWatch(session, recorded.term);
    // The next beat goes out after (1500 − 300) / 5 = 240 ms and is never answered: overdue
    // 900 ms later, before the session timeout.
    const start = performance.now();
    await recorded.until(1);
    expect(recorded.events[0]).toBe("suspended");
    expect(performance.now() - start).toBeLessThan(timeoutMs);
    handle.next("sync").answer(rc.ok);
    await recorded.until(2);
    expect(recorded.events).toEqual(["suspended", "resumed"]);
    watch.stop();
    session.close();
  });

  it("names a deadline passed in silence connection-lost, saying how long the server was silent", async () => {
    const { session, handle } = connected(300, 50);
    handle.next("sync").answer(rc.ok);
    const recorded = recordingTerm();
    const watch = new SessionWatch(session, recorded.term);
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
    const { session, handle } = connected(4000);
    const recorded = recordingTerm();
    const watch = new SessionWatch(session, recorded.term);
    handle.dropConnection();
    handle.expire();
    expect(recorded.events).toEqual(["suspended", "lost:session-expired"]);
    watch.stop();
  });

  it("credits each pipelined heartbeat from its own send time, so a slow round trip below the deadline keeps the term", async () => {
    // 300 ms timeout, 50 ms margin: beats every 100 ms, a round trip of 150 ms each.
    const { session, handle } = connected(300, 50);
    handle.next("sync").answer(rc.ok);
    const recorded = recordingTerm();
    const watch = new SessionWatch(session, recorded.term);
    const sent: number[] = [];
    const started = performance.now();
    while (performance.now() - started < 900) {
      const pending = handle.requests.filter((request) => request.operation === "sync");
      if (pending.length > sent.length) sent.push(performance.now());
      // Answer the oldest beat once it is 150 ms old: later beats went out meanwhile.
      const oldest = pending[0];
      const sentAt = sent[0];
      if (oldest !== undefined && sentAt !== undefined && performance.now() - sentAt >= 150) {
        oldest.answer(rc.ok);
        sent.shift();
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // Never skipped: more than one beat was in flight at a time, and each answer moved the
    // deadline past now.
    expect(recorded.deadline).toBeGreaterThan(performance.now());
    watch.stop();
    session.close();
  });
});
