// Handoff: from the leader's resign to the waiter's election, on one etcd server, for
// @elector/etcd, the etcd3 package's own Election, and a raw floor (a delete seen by a watch
// on a second client). Each round runs all three in turn, so that load from elsewhere on the
// machine falls on all of them alike. Then, on the same server, the anchors of bench/anchors.ts:
// etcd's Go concurrency.Election and the Go client's floor, each in a process of its own.
//
// - settled: the waiter has been in line for 250 ms (etcd's catch-up loop runs every 100 ms);
// - fresh: the leader resigns as soon as the waiter's key is visible.
//
// Run: TSX_TSCONFIG_PATH=tsconfig.test.json pnpm exec tsx bench/etcd/handoff.ts
// Environment: ROUNDS (default 200), ELECTOR_ETCD_IMAGE; BENCH_SERVERS=local for a local etcd
// process, BENCH_ETCD_ENDPOINTS for yours (bench/servers.ts).
import type { Elector, Leadership } from "@elector/core";
import { createEtcdElector } from "@elector/etcd";
import { type Campaign, type Election, Etcd3 } from "etcd3";
import { etcdAnchors } from "../anchors.js";
import { etcdServer } from "../servers.js";
import { delay, machine, ms, percentile, table } from "../stats.js";

type Mode = "settled" | "fresh";

/** One way of handing leadership over, measured one round at a time. */
interface Contender {
  readonly name: string;
  /** One handoff; resolves with its duration in milliseconds. */
  round(mode: Mode): Promise<number>;
  close(): Promise<void>;
}

const rounds = Number(process.env.ROUNDS ?? 200);
const warmup = 10;
const settleMs = 250;
const ttlSeconds = 10;

/** Polls until `count()` reaches `target`: the waiter's key is in line. */
async function until(count: () => Promise<number>, target: number): Promise<void> {
  while ((await count()) < target) {
    // Polls back to back: the waiter is "fresh" the moment its key is seen.
  }
}

/** @elector/etcd: two electors, each on its own client, taking turns. */
async function elector(endpoints: string[]): Promise<Contender> {
  const election = `bench-elector-${Date.now()}`;
  const electors = [
    await createEtcdElector({ election, id: "a", endpoints, ttlSeconds }),
    await createEtcdElector({ election, id: "b", endpoints, ttlSeconds }),
  ] as [Elector, Elector];
  let leading: Leadership = await electors[0].campaign();
  let turn = 1;
  return {
    name: "@elector/etcd",
    async round(mode) {
      const waiter = electors[turn % 2] as Elector;
      const next = waiter.campaign();
      await until(async () => (await waiter.participants()).length, 2);
      if (mode === "settled") await delay(settleMs);
      const started = performance.now();
      const resigned = leading.resign();
      leading = await next;
      const took = performance.now() - started;
      await resigned;
      turn++;
      return took;
    },
    async close() {
      await Promise.all(electors.map((made) => made.close()));
    },
  };
}

/** The etcd3 package's Election: two clients, taking turns. */
async function etcd3Election(endpoints: string[]): Promise<Contender> {
  const name = `bench-etcd3-${Date.now()}`;
  const clients = [new Etcd3({ hosts: endpoints }), new Etcd3({ hosts: endpoints })] as const;
  const elections = [clients[0].election(name, ttlSeconds), clients[1].election(name, ttlSeconds)];
  let leading: Campaign = await (elections[0] as Election).campaign("a").wait();
  let turn = 1;
  return {
    name: "etcd3 Election",
    async round(mode) {
      const next = (elections[turn % 2] as Election).campaign(`v${turn}`);
      await until(() => clients[0].getAll().prefix(`election/${name}/`).count(), 2);
      if (mode === "settled") await delay(settleMs);
      const started = performance.now();
      const resigned = leading.resign();
      leading = await next.wait();
      const took = performance.now() - started;
      await resigned;
      turn++;
      return took;
    },
    async close() {
      await leading.resign().catch(() => {});
      for (const client of clients) client.close();
    },
  };
}

/**
 * The floor: a delete on one client, seen by a watch on another. With `recheck`, the second
 * client then makes one linearizable read, as any election that re-checks before it reports
 * "elected" must: the least such an election can take.
 */
async function rawFloor(endpoints: string[], recheck = false): Promise<Contender> {
  const key = `bench-raw-${Date.now()}`;
  const writer = new Etcd3({ hosts: endpoints });
  const reader = new Etcd3({ hosts: endpoints });
  let deleted: (() => void) | undefined;
  const settledWatch = await reader.watch().key(key).create();
  settledWatch.on("delete", () => deleted?.());
  return {
    name: recheck ? "raw floor + one linearizable read" : "raw floor (delete → watch event)",
    async round(mode) {
      const put = await writer.put(key).value("x").exec();
      let fresh: Awaited<ReturnType<ReturnType<Etcd3["watch"]>["create"]>> | undefined;
      if (mode === "fresh") {
        fresh = await reader
          .watch()
          .key(key)
          .startRevision(String(BigInt(put.header.revision) + 1n))
          .create();
        fresh.on("delete", () => deleted?.());
      } else {
        await delay(settleMs);
      }
      const seen = new Promise<void>((resolve) => {
        deleted = resolve;
      });
      const started = performance.now();
      const deleting = writer.delete().key(key).exec();
      await seen;
      if (recheck) await reader.get(key).exists();
      const took = performance.now() - started;
      await deleting;
      deleted = undefined;
      await fresh?.cancel();
      return took;
    },
    async close() {
      await settledWatch.cancel();
      writer.close();
      reader.close();
    },
  };
}

async function main(): Promise<void> {
  await using etcd = await etcdServer();
  const endpoints = [etcd.address];
  const contenders = [
    await rawFloor(endpoints),
    await rawFloor(endpoints, true),
    await elector(endpoints),
    await etcd3Election(endpoints),
  ];
  const samples = new Map<string, number[]>();
  for (const mode of ["settled", "fresh"] as const) {
    for (let round = 0; round < warmup + rounds; round++) {
      for (const contender of contenders) {
        const took = await contender.round(mode);
        if (round < warmup) continue;
        const key = `${contender.name}\u0000${mode}`;
        samples.set(key, [...(samples.get(key) ?? []), took]);
      }
    }
  }
  await Promise.all(contenders.map((contender) => contender.close()));
  const anchors = await etcdAnchors(endpoints, rounds);
  const goFloor = anchors.get("floor");

  const rows: string[][] = [];
  for (const mode of ["settled", "fresh"] as const) {
    const named = contenders.map((contender) => ({
      name: contender.name,
      values: samples.get(`${contender.name}\u0000${mode}`) ?? [],
    }));
    for (const anchor of [goFloor, anchors.get(mode)]) {
      if (anchor !== undefined) named.push({ name: anchor.peer, values: anchor.samples });
    }
    const floor = percentile(named[0]?.values ?? [], 50);
    const goFloorP50 = goFloor === undefined ? Number.NaN : percentile(goFloor.samples, 50);
    for (const { name, values } of named) {
      const p50 = percentile(values, 50);
      rows.push([
        mode,
        name,
        String(values.length),
        ms(p50),
        ms(percentile(values, 99)),
        ms(Math.max(...values)),
        `${(p50 / floor).toFixed(2)}×`,
        Number.isNaN(goFloorP50) ? "–" : `${(p50 / goFloorP50).toFixed(2)}×`,
      ]);
    }
  }
  console.log(`handoff on ${etcd.description}, ${etcd.address}`);
  console.log(machine());
  console.log(
    table(
      [
        "waiter",
        "implementation",
        "rounds",
        "p50 ms",
        "p99 ms",
        "max ms",
        "p50 / raw floor",
        "p50 / Go floor",
      ],
      rows,
    ),
  );
}

await main();
