// The scenario the fence exists for, end to end: A is elected and stalls (a GC pause) past its
// TTL; its lease expires and B is elected with a greater token and writes; A wakes and sends
// the write it had decided on before the stall. Lease expiry alone cannot stop that write:
// the ledger's fence refuses it, and nothing B wrote is lost.
import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { createMemoryElector } from "@elector/core";
import { EtcdFence, MemoryFence } from "@elector/fencing";
import { describe, expect, it } from "vitest";
import { EventLog } from "../../fixtures/event-log.js";
import { eventually } from "../../support/eventually.js";
import { etcdWithClientForSuite } from "../../support/suite-servers.js";
import { eventLine, type WriterEvent } from "./event-log.js";
import { runFencedWriter } from "./fenced-writer.js";
import { Ledger } from "./ledger.js";
import { WriterProcess } from "./writer-process.js";

const tickMs = 25;
/** A stalls right after deciding on this write, so it has written before the stall. */
const stallBeforeWrite = 3;
/** B must have written this many times before A wakes. */
const writesOfB = 3;

/**
 * Resolves once `ms` have passed since `since` (wall clock). The scenario needs a stall that
 * outlasts the TTL, and B can be elected a little sooner: the server counts the TTL from A's
 * last renewal, which A sent up to a third of a TTL before it stalled.
 */
async function outlast(since: number, ms: number): Promise<void> {
  const left = since + ms - Date.now();
  if (left > 0) await delay(left);
}

/** What must hold after the scenario ran, on any backend. */
function expectFencedOutcome(a: EventLog, b: EventLog, ledger: Ledger, ttlMs: number): void {
  const tokenOf = (log: EventLog) => BigInt(log.named("leading")[0]?.token as string | bigint);
  const tokenA = tokenOf(a);
  const tokenB = tokenOf(b);
  expect(tokenB).toBeGreaterThan(tokenA);

  // A was stalled for longer than its TTL, and on waking knew it had lost...
  const stalling = a.named("stalling")[0] as unknown as { at: number; seq: number };
  const resumed = a.named("resumed")[0] as unknown as { at: number; active: boolean };
  expect(resumed.at - stalling.at).toBeGreaterThan(ttlMs);
  expect(resumed.active).toBe(false);
  // ...yet sent the write it had decided on, and the fence refused it, naming both tokens.
  const refused = a.named("refused");
  expect(refused).toHaveLength(1);
  expect(refused[0]).toMatchObject({
    seq: stalling.seq,
    status: 409,
    body: {
      error: "stale-token",
      resource: "ledger",
      presented: `${tokenA}`,
      highest: `${tokenB}`,
    },
    stale: { presented: `${tokenA}`, highest: `${tokenB}` },
  });
  expect(ledger.responses).toContainEqual({ token: `${tokenA}`, status: 409 });

  // Nothing that a valid leader wrote is lost: every acknowledged write is in the ledger, in
  // token order, the refused one is not, and the ledger's value is B's last write.
  const acknowledged = (log: EventLog, writer: string) =>
    log.named("wrote").map((event) => `${writer}:${event.seq as number}`);
  const applied = ledger.entries.map((entry) => `${entry.writer}:${entry.seq}`);
  expect(applied).toEqual([...acknowledged(a, "A"), ...acknowledged(b, "B")]);
  expect(acknowledged(a, "A")).toHaveLength(stallBeforeWrite - 1);
  expect(acknowledged(b, "B").length).toBeGreaterThanOrEqual(writesOfB);
  expect(applied).not.toContain(`A:${stalling.seq}`);
  const tokens = ledger.entries.map((entry) => entry.token);
  expect(tokens).toEqual([...tokens].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
  expect(ledger.value).toBe(applied.at(-1));
  expect(ledger.value?.startsWith("B:")).toBe(true);
}

describe("stalled leader: memory backend, one process", () => {
  it("A, stalled past its TTL, is refused by the fence when it wakes; B's writes stay", async () => {
    const ttlMs = 300;
    const name = `fencing-${randomUUID()}`;
    await using ledger = await Ledger.start(new MemoryFence());
    await using electorA = createMemoryElector({ election: "ledger", id: "A", name, ttlMs });
    await using electorB = createMemoryElector({ election: "ledger", id: "B", name, ttlMs });
    const a = new EventLog("A");
    const b = new EventLog("B");
    // The same JSON lines as a writer process reports, so that both run one set of checks.
    const reporter = (log: EventLog) => (event: string, fields?: Record<string, unknown>) =>
      log.push(JSON.parse(eventLine(event, fields)) as WriterEvent);
    const stop = new AbortController();
    let wake: () => void = () => {};
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });

    const runA = runFencedWriter({
      elector: electorA,
      ledgerUrl: ledger.url,
      tickMs,
      stallBeforeWrite,
      // The whole of A stalls: no renewal leaves it, and its write waits.
      stall: async () => {
        electorA.faults.stopRenewals();
        await woken;
      },
      signal: stop.signal,
      report: reporter(a),
    });
    await a.waitFor((event) => event.event === "leading", ttlMs);
    const runB = runFencedWriter({
      elector: electorB,
      ledgerUrl: ledger.url,
      tickMs,
      signal: stop.signal,
      report: reporter(b),
    });
    try {
      await a.waitFor((event) => event.event === "stalling", tickMs * stallBeforeWrite + ttlMs);
      const stalledAt = Date.now();
      // B is elected once A's lease has gone unrenewed for a TTL.
      await b.waitFor((event) => event.event === "leading", ttlMs * 3);
      await b.waitFor(
        (event) => event.event === "wrote" && event.seq === writesOfB,
        tickMs * writesOfB + ttlMs * 3,
      );
      await outlast(stalledAt, ttlMs + tickMs);
      wake();
      await a.waitFor((event) => event.event === "refused" || event.event === "wrote", ttlMs * 3);
    } finally {
      wake();
      stop.abort();
      await Promise.all([runA, runB]);
    }
    expectFencedOutcome(a, b, ledger, ttlMs);
  });
});

describe("stalled leader: etcd backend, two processes", () => {
  const ttlSeconds = 2;
  const ttlMs = ttlSeconds * 1000;
  const started = etcdWithClientForSuite();

  it("A, frozen with SIGSTOP past its TTL, is refused by an etcd-backed fence when resumed; B's writes stay", async () => {
    const { etcd, client } = started();
    await using ledger = await Ledger.start(
      new EtcdFence(client, { prefix: `fences-${randomUUID()}/` }),
    );
    const common = {
      url: `etcd://${etcd.getHost()}:${etcd.getClientPort()}?ttl=${ttlSeconds}`,
      election: `ledger-${randomUUID()}`,
      ledgerUrl: ledger.url,
      tickMs,
      startupTimeoutMs: 30_000,
    };
    await using writerA = await WriterProcess.start({ ...common, id: "A", stallBeforeWrite });
    await writerA.log.waitFor((event) => event.event === "leading", ttlMs * 5);
    await using writerB = await WriterProcess.start({ ...common, id: "B" });

    // A stops itself with SIGSTOP right after deciding on a write.
    await writerA.log.waitFor(
      (event) => event.event === "stalling",
      tickMs * stallBeforeWrite + ttlMs,
    );
    const stoppedAt = Date.now();
    await eventually(
      "A is stopped",
      ttlMs,
      async () => expect(await writerA.isStopped()).toBe(true),
      20,
    );
    // A's lease expires on the server a TTL after its last keep-alive; B is elected then.
    await writerB.log.waitFor((event) => event.event === "leading", ttlMs * 3);
    await writerB.log.waitFor(
      (event) => event.event === "wrote" && event.seq === writesOfB,
      tickMs * writesOfB + ttlMs,
    );
    await outlast(stoppedAt, ttlMs + tickMs);
    expect(await writerA.isStopped()).toBe(true);

    writerA.thaw();
    await writerA.log.waitFor(
      (event) => event.event === "refused" || event.event === "wrote",
      ttlMs * 2,
    );
    await writerB.stop();
    await writerA.stop();
    expectFencedOutcome(writerA.log, writerB.log, ledger, ttlMs);
  });
});
