import type { LeaderInfo, Leadership } from "@elector/core";
import { createEtcdElector, type EtcdElector } from "@elector/etcd";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { electorsForSuite } from "../../support/electors.js";
import { etcdWithClientForSuite } from "../../support/suite-servers.js";
import { lineOf, uniqueElection, within } from "./helpers.js";

const ttlSeconds = 2;
const ttlMs = ttlSeconds * 1000;
/** How often etcd compacts its history to the current revision: what the issue ran. */
const compactEveryMs = 100;
const handOffForMs = 60_000;

describe("etcd elector while etcd compacts its history every 100 ms", () => {
  const started = etcdWithClientForSuite();
  const closedAfterEach = electorsForSuite();
  /**
   * An exception that escaped into an event handler (the etcd3 watch stream's, say), or a
   * rejection nobody handled, would end the process; trapped here, it fails the test instead
   * of the worker.
   */
  const escaped: unknown[] = [];
  const trap = (error: unknown) => escaped.push(error);

  beforeAll(() => {
    process.on("uncaughtException", trap);
    process.on("unhandledRejection", trap);
  });
  afterAll(() => {
    process.off("uncaughtException", trap);
    process.off("unhandledRejection", trap);
  });
  const elector = async (election: string, id: string) => {
    const made = await createEtcdElector({
      election,
      id,
      endpoints: started().etcd.getClientEndpoints(),
      ttlSeconds,
    });
    return closedAfterEach(made);
  };

  /** Compacts to the current revision every `compactEveryMs` until stopped. */
  const compacting = () => {
    const { client } = started();
    let stopped = false;
    let compactions = 0;
    const running = (async () => {
      while (!stopped) {
        const { header } = await client.kv.range({ key: Buffer.from("compaction-probe") });
        // A compaction to the revision already compacted fails; the next one is ahead.
        await client.kv.compact({ revision: header.revision }).then(
          () => compactions++,
          () => {},
        );
        await new Promise((resolve) => setTimeout(resolve, compactEveryMs));
      }
    })();
    return async () => {
      stopped = true;
      await running;
      return compactions;
    };
  };

  it("answers leader() and participants() while every revision they read may be compacted at once", async () => {
    const election = uniqueElection("compaction-reads");
    const [reader, leader] = await Promise.all([
      elector(election, "reader"),
      elector(election, "leader"),
    ]);
    const leadership = await leader.campaign({ value: "v0" });
    let running = true;
    // Moves the revision on every few milliseconds (another key: the leader's term is not
    // what this test is about) while etcd compacts to the current one every 100 ms: a read
    // pinned to the revision of an earlier read may meet a compaction.
    const { client } = started();
    const stopCompacting = compacting();
    const churn = (async () => {
      for (let index = 1; running; index++) {
        await client.put(`${election}-churn`).value(String(index));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const failures: unknown[] = [];
    let reads = 0;
    const until = performance.now() + ttlMs * 5;
    while (performance.now() < until) {
      // Many reads in flight at once: each compaction lands inside some of them.
      await Promise.all([
        ...Array.from({ length: 16 }, () =>
          reader.leader().then(
            (info) => {
              if (info?.id !== "leader") failures.push(info);
            },
            (error: unknown) => failures.push(error),
          ),
        ),
        reader.participants().then(
          (line) => {
            if (line.length !== 1) failures.push(line);
          },
          (error: unknown) => failures.push(error),
        ),
      ]);
      reads++;
    }
    running = false;
    const compactions = await stopCompacting();
    await churn;
    expect(failures).toEqual([]);
    // Compactions ran all along (a loaded machine runs fewer than one per 100 ms).
    expect(compactions).toBeGreaterThanOrEqual(10);
    expect(reads).toBeGreaterThan(20);
    expect(leadership.isActive()).toBe(true);
  });

  it("hands leadership back and forth for 60 s without a crash or a wrong loss, and an observer sees every change", async () => {
    const election = uniqueElection("compaction");
    const [observer, a, b] = await Promise.all([
      elector(election, "observer"),
      elector(election, "a"),
      elector(election, "b"),
    ]);
    const seen: (LeaderInfo | undefined)[] = [];
    const observing = new AbortController();
    const observation = (async () => {
      for await (const leader of observer.observe({ signal: observing.signal })) seen.push(leader);
    })();
    await within(
      (async () => {
        while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      })(),
      ttlMs,
      "the observer's first report",
    );

    const stopCompacting = compacting();
    /** What the candidates did, in the order they did it: each leader and value it set. */
    const ledger: LeaderInfo[] = [];
    const wrongLosses: string[] = [];
    let handingOff = true;
    const takeTurns = async (candidate: EtcdElector) => {
      for (let term = 0; handingOff; term++) {
        const leadership: Leadership = await candidate.campaign({
          value: `${candidate.id}${term}.0`,
        });
        ledger.push({
          id: candidate.id,
          value: `${candidate.id}${term}.0`,
          token: leadership.token,
        });
        await leadership.proclaim(`${candidate.id}${term}.1`);
        ledger.push({
          id: candidate.id,
          value: `${candidate.id}${term}.1`,
          token: leadership.token,
        });
        // Hand over only to a waiter in line, so that no "no leader" falls between terms.
        if (handingOff) await lineOf(candidate, 2, ttlMs * 5);
        if (!leadership.isActive()) {
          wrongLosses.push(`${candidate.id} term ${term}: ${String(leadership.signal.reason)}`);
        }
        await leadership.resign();
      }
    };
    const turns = Promise.all([takeTurns(a), takeTurns(b)]);
    let compactions: number;
    try {
      await Promise.race([turns, new Promise((resolve) => setTimeout(resolve, handOffForMs))]);
      handingOff = false;
      await within(turns, ttlMs * 10, "the last terms");
    } finally {
      handingOff = false;
      compactions = await stopCompacting();
    }

    // The last resign leaves no leader.
    const expected = [undefined, ...ledger, undefined];
    await within(
      (async () => {
        while (seen.length < expected.length) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })(),
      ttlMs * 2,
      "the observer's last report",
    ).catch(() => {});
    observing.abort();
    await observation;

    expect(escaped).toEqual([]);
    expect(wrongLosses).toEqual([]);
    // The run went through many terms and compactions, or it proves nothing.
    expect(ledger.length).toBeGreaterThan(40);
    // At least one compaction a second (a loaded machine runs fewer than one per 100 ms).
    expect(compactions).toBeGreaterThanOrEqual(handOffForMs / 1000);
    expect(seen).toEqual(expected);
  });
});
