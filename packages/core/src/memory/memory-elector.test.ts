import { afterEach, describe, expect, it } from "vitest";
import { createElector } from "../create-elector.js";
import type { Elector } from "../elector.js";
import { createMemoryElector, type MemoryElector } from "./memory-elector.js";

const ttlMs = 200;
const open: Elector[] = [];
let namespaces = 0;

function pair(): [MemoryElector, MemoryElector] {
  const name = `memory-unit-${++namespaces}`;
  const a = createMemoryElector({ election: "jobs", id: "a", name, ttlMs });
  const b = createMemoryElector({ election: "jobs", id: "b", name, ttlMs });
  open.push(a, b);
  return [a, b];
}

/** Blocks the event loop, as a long GC pause blocks a process. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: no timer or I/O callback runs meanwhile
  }
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((elector) => elector.close()));
});

describe("memory backend", () => {
  it("shares elections by name and only by name", async () => {
    const [a] = pair();
    const other = await createElector("memory://someone-else", { election: "jobs", id: "c" });
    open.push(other);
    await a.campaign();
    expect(await other.leader()).toBeUndefined();
    expect((await a.leader())?.id).toBe("a");
  });

  it("reports a stalled leader inactive on its first check, before any timer runs", async () => {
    const [a] = pair();
    const leadership = await a.campaign();
    expect(leadership.isActive()).toBe(true);
    stall(ttlMs + 20);
    expect(leadership.isActive()).toBe(false);
    expect(leadership.signal.reason).toMatchObject({ code: "deadline-passed" });
    // The renewal that was due during the stall runs now; it must not bring the term back.
    await new Promise((resolve) => setTimeout(resolve, ttlMs / 3 + 10));
    expect(leadership.isActive()).toBe(false);
  });

  it("steps a leader whose renewals stopped down before the server elects its successor", async () => {
    const [a, b] = pair();
    const order: string[] = [];
    a.on("lost", ({ reason }) => order.push(`a lost: ${reason}`));
    b.on("elected", () => order.push("b elected"));
    const leadership = await a.campaign();
    const successor = b.campaign();
    a.faults.stopRenewals();
    const started = performance.now();
    await successor;
    expect(order).toEqual(["a lost: deadline-passed", "b elected"]);
    expect(leadership.signal.aborted).toBe(true);
    // The server drops the key one TTL after the last renewal, not sooner.
    expect(performance.now() - started).toBeGreaterThanOrEqual(ttlMs - ttlMs / 3 - 5);
  });

  it("ends the term with lease-expired when the server expires the session", async () => {
    const [a, b] = pair();
    const leadership = await a.campaign();
    const successor = b.campaign();
    a.faults.expireSession();
    expect(leadership.signal.reason).toMatchObject({ code: "lease-expired" });
    expect((await successor).token).toBeGreaterThan(leadership.token);
  });

  it("keeps leadership while renewals flow, well past the TTL", async () => {
    const [a] = pair();
    const leadership = await a.campaign();
    await new Promise((resolve) => setTimeout(resolve, ttlMs * 3));
    expect(leadership.isActive()).toBe(true);
    expect(leadership.deadline()).toBeGreaterThan(performance.now());
  });

  it("wakes only the next candidate in line on a handoff", async () => {
    const name = `memory-herd-${++namespaces}`;
    const electors = Array.from({ length: 5 }, (_, index) =>
      createMemoryElector({ election: "jobs", id: `c${index}`, name, ttlMs }),
    );
    open.push(...electors);
    const woken: string[] = [];
    for (const elector of electors) elector.on("elected", () => woken.push(elector.id));
    const first = await (electors[0] as MemoryElector).campaign();
    const rest = electors.slice(1).map((elector) => elector.campaign());
    await first.resign();
    await rest[0];
    expect(woken).toEqual(["c0", "c1"]);
  });
});
