import { afterEach, describe, expect, it } from "vitest";
import type { Elector, Leadership } from "./elector.js";
import { lead } from "./lead.js";
import { createMemoryElector } from "./memory/memory-elector.js";

const open: Elector[] = [];
let namespaces = 0;

function electors(count: number, ttlMs = 200) {
  const name = `lead-unit-${++namespaces}`;
  const made = Array.from({ length: count }, (_, index) =>
    createMemoryElector({ election: "cron", id: `w${index}`, name, ttlMs }),
  );
  open.push(...made);
  return made;
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true }),
  );
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((elector) => elector.close()));
});

describe("lead()", () => {
  it("aborts the work when leadership is lost, waits for it, and campaigns again", async () => {
    const [a] = electors(1);
    if (a === undefined) throw new Error("no elector");
    const stop = new AbortController();
    const terms: { token: bigint; reason: unknown }[] = [];
    await lead(
      a,
      async (leadership: Leadership) => {
        // The first term is lost to the server; the second ends because lead() is stopped.
        if (terms.length === 0) queueMicrotask(() => a.faults.expireSession());
        else stop.abort();
        await aborted(leadership.signal);
        terms.push({
          token: leadership.token,
          reason: (leadership.signal.reason as { code: string }).code,
        });
      },
      { signal: stop.signal, backoff: { minDelayMs: 1, maxDelayMs: 5 } },
    );
    expect(terms.map((term) => term.reason)).toEqual(["lease-expired", "resigned"]);
    expect(terms[1]?.token).toBeGreaterThan(terms[0]?.token as bigint);
  });

  it("resigns and resolves when its signal aborts", async () => {
    const [a, b] = electors(2);
    if (a === undefined || b === undefined) throw new Error("no electors");
    const stop = new AbortController();
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const leading = lead(
      a,
      (leadership) =>
        new Promise<void>((resolve) => {
          started();
          leadership.signal.addEventListener("abort", () => resolve());
        }),
      { signal: stop.signal },
    );
    await running;
    const successor = b.campaign();
    stop.abort();
    await leading;
    expect((await successor).isActive()).toBe(true);
  });

  it("ends with the work's error when no onError is given, and leaves the line", async () => {
    const [a] = electors(1);
    if (a === undefined) throw new Error("no elector");
    const failure = new TypeError("bug in the job");
    await expect(
      lead(a, () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await a.participants()).toEqual([]);
  });

  it("reports work errors to onError and goes on", async () => {
    const [a] = electors(1);
    if (a === undefined) throw new Error("no elector");
    const stop = new AbortController();
    const errors: unknown[] = [];
    let runs = 0;
    await lead(
      a,
      () => {
        runs++;
        if (runs === 3) stop.abort();
        throw new Error(`run ${runs}`);
      },
      {
        signal: stop.signal,
        backoff: { minDelayMs: 1, maxDelayMs: 2 },
        onError: (error) => errors.push(error),
      },
    );
    expect(errors.map((error) => (error as Error).message)).toEqual(["run 1", "run 2", "run 3"]);
  });

  it("waits between terms, so a work that returns at once cannot spin", async () => {
    const [a] = electors(1);
    if (a === undefined) throw new Error("no elector");
    let terms = 0;
    let timerRan = false;
    setTimeout(() => {
      timerRan = true;
    }, 0);
    await lead(
      a,
      () => {
        terms++;
      },
      { signal: AbortSignal.timeout(200), backoff: { minDelayMs: 50, maxDelayMs: 100 } },
    );
    expect(timerRan).toBe(true);
    // One term, then at least 50 ms between terms: at most five in 200 ms.
    expect(terms).toBeGreaterThanOrEqual(1);
    expect(terms).toBeLessThanOrEqual(5);
  });

  it("stops and leaves the line whenever its signal aborts around the end of a campaign", async () => {
    // The abort lands k microtasks after the previous leader resigned: one of those falls
    // between the campaign resolving and the term's work starting.
    for (let k = 0; k < 12; k++) {
      const [a, b] = electors(2);
      if (a === undefined || b === undefined) throw new Error("no electors");
      const first = await a.campaign();
      const stop = new AbortController();
      const leading = lead(b, (leadership) => aborted(leadership.signal), { signal: stop.signal });
      await expect.poll(() => a.participants().then((line) => line.length)).toBe(2);
      void first.resign();
      for (let tick = 0; tick < k; tick++) await Promise.resolve();
      stop.abort();
      await leading;
      expect(await a.participants(), `abort after ${k} microtasks`).toEqual([]);
    }
  });

  it("rejects bad backoff options, naming the option", async () => {
    const [a] = electors(1);
    if (a === undefined) throw new Error("no elector");
    await expect(lead(a, () => {}, { backoff: { minDelayMs: -1 } })).rejects.toThrow(
      /^backoff.minDelayMs must be/,
    );
  });
});
