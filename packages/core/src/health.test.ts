import { afterEach, describe, expect, it } from "vitest";
import { isInvalidOptionError } from "./errors.js";
import { LeaderHealth } from "./health.js";
import { createMemoryElector, type MemoryElector } from "./memory/memory-elector.js";

const ttlMs = 600;
const open: MemoryElector[] = [];
const probes: LeaderHealth[] = [];
let namespaces = 0;

function pair(): [MemoryElector, MemoryElector] {
  const name = `health-unit-${++namespaces}`;
  const a = createMemoryElector({ election: "jobs", id: "a", name, ttlMs });
  const b = createMemoryElector({ election: "jobs", id: "b", name, ttlMs });
  open.push(a, b);
  return [a, b];
}

function probe(elector: MemoryElector, maxRenewalAgeMs: number): LeaderHealth {
  const health = new LeaderHealth(elector, { maxRenewalAgeMs });
  probes.push(health);
  return health;
}

function until(condition: () => boolean, withinMs: number): Promise<void> {
  const deadline = performance.now() + withinMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      if (condition()) resolve();
      else if (performance.now() > deadline) reject(new Error(`not within ${withinMs} ms`));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

afterEach(async () => {
  for (const health of probes.splice(0)) health.close();
  await Promise.all(open.splice(0).map((elector) => elector.close()));
});

describe("LeaderHealth", () => {
  it("passes readiness on the leader alone, and liveness on every candidate", async () => {
    const [a, b] = pair();
    const healthA = probe(a, ttlMs / 2);
    const healthB = probe(b, ttlMs / 2);
    await a.campaign();
    const waiting = b.campaign();
    expect(healthA.ready()).toBe(true);
    expect(healthB.ready()).toBe(false);
    expect(healthA.check()).toMatchObject({ healthy: true, leading: true });
    expect(healthB.check()).toEqual({
      healthy: true,
      leading: false,
      renewalAgeMs: undefined,
      message: "not leading",
    });
    await b.close();
    await expect(waiting).rejects.toThrow();
  });

  it("stays healthy across many renewals while the leader renews", async () => {
    const [a] = pair();
    // Renewals come every TTL/3; the bound leaves room for a loaded machine's timer jitter.
    const health = probe(a, ttlMs * 0.75);
    let renewals = 0;
    a.on("renewed", () => renewals++);
    await a.campaign();
    const until3Ttl = performance.now() + 3 * ttlMs;
    while (performance.now() < until3Ttl) {
      expect(health.check().healthy).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, ttlMs / 10));
    }
    expect(renewals).toBeGreaterThanOrEqual(6);
  });

  it("fails liveness while the term still holds once renewals stop, then passes as a follower", async () => {
    const [a] = pair();
    const health = probe(a, ttlMs / 2);
    const leadership = await a.campaign();
    a.faults.stopRenewals();
    await until(() => !health.check().healthy, ttlMs);
    // The probe fails before the term ends: the early warning client-go's adaptor gives.
    expect(leadership.isActive()).toBe(true);
    expect(health.check().message).toMatch(/no renewal was acknowledged for \d+ ms/);
    await until(() => leadership.signal.aborted, ttlMs);
    expect(health.check()).toMatchObject({ healthy: true, leading: false });
    expect(health.ready()).toBe(false);
  });

  it("refuses a bound that is not a positive number, naming the option", () => {
    const [a] = pair();
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "100"]) {
      let error: unknown;
      try {
        new LeaderHealth(a, { maxRenewalAgeMs: bad as number });
      } catch (caught) {
        error = caught;
      }
      expect(isInvalidOptionError(error)).toBe(true);
      expect((error as Error).message).toMatch(/^maxRenewalAgeMs must be/);
    }
  });

  it("times the campaign and the handoff in the elected event", async () => {
    const [a, b] = pair();
    const events: { campaignMs: number; handoffMs: number | undefined }[] = [];
    a.on("elected", ({ campaignMs, handoffMs }) => events.push({ campaignMs, handoffMs }));
    b.on("elected", ({ campaignMs, handoffMs }) => events.push({ campaignMs, handoffMs }));
    const first = await a.campaign();
    const second = b.campaign();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await first.resign();
    await second;
    expect(events[0]?.handoffMs).toBeUndefined();
    expect(events[1]?.campaignMs).toBeGreaterThanOrEqual(45);
    expect(events[1]?.handoffMs).toBeGreaterThanOrEqual(0);
    expect(events[1]?.handoffMs).toBeLessThan(events[1]?.campaignMs ?? 0);
  });
});
