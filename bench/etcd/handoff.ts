// Handoff: from the leader's resign to the waiter's election, on one etcd server, for
// @elector/etcd, the etcd3 package's own Election, and a raw floor (a delete seen by a watch
// on a second client). Each round runs all of them in turn, so that load from elsewhere on the
// machine falls on all of them alike. The leader and the waiter of each are two processes of
// their own (handoff-side.ts), as in production, and as the Go anchor's goroutines run in
// parallel. Then, on the same server, the anchors of bench/anchors.ts: etcd's Go
// concurrency.Election and the Go client's floor, each in a process of its own.
//
// - settled: the waiter has been in line for 250 ms (etcd's catch-up loop runs every 100 ms);
// - fresh: the leader resigns as soon as the waiter's key is visible.
//
// Run: TSX_TSCONFIG_PATH=tsconfig.test.json pnpm exec tsx bench/etcd/handoff.ts
// Environment: ROUNDS (default 200), ELECTOR_ETCD_IMAGE; BENCH_SERVERS=local for a local etcd
// process, BENCH_ETCD_ENDPOINTS for yours (bench/servers.ts).
import { type ChildProcess, fork } from "node:child_process";
import { etcdAnchors } from "../anchors.js";
import { etcdServer } from "../servers.js";
import { machine, ms, percentile, table } from "../stats.js";
import type { SideAnswer, SideRequest } from "./handoff-side.js";

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

/** One side of a contender (handoff-side.ts) in a process of its own. */
class Side {
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, (answer: SideAnswer) => void>();
  #next = 1;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on("message", (answer: SideAnswer) => {
      this.#waiting.get(answer.id)?.(answer);
      this.#waiting.delete(answer.id);
    });
  }

  /** Starts a side and resolves once it is ready (its clients are created). */
  static async start(kind: string, endpoints: string[], name: string, id = ""): Promise<Side> {
    const child = fork(new URL("./handoff-side.ts", import.meta.url), [
      kind,
      endpoints.join(","),
      name,
      id,
    ]);
    const side = new Side(child);
    await new Promise<void>((resolve, reject) => {
      side.#waiting.set(0, () => resolve());
      child.once("exit", (code) => reject(new Error(`a ${kind} side exited with ${code}`)));
    });
    return side;
  }

  /** Asks for `op`; resolves with its value. */
  request(op: string, fields: Omit<SideRequest, "id" | "op"> = {}): Promise<number> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, (answer) => {
        if (answer.error === undefined) resolve(Number(answer.value));
        else reject(new Error(`${op}: ${answer.error}`));
      });
      this.#child.send({ id, op, ...fields } satisfies SideRequest);
    });
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    await this.request("close");
    await exited;
  }
}

/**
 * Two candidates taking turns, each a side: `campaign` starts the waiter's campaign,
 * `handoff` has the leader resign once the waiter is in line, `elected` answers when the
 * waiter won. The handoff is the waiter's election time minus the leader's resign time.
 */
async function turns(name: string, kind: string, endpoints: string[]): Promise<Contender> {
  const election = `bench-${kind}-${Date.now()}`;
  const sides = [
    await Side.start(kind, endpoints, election, "a"),
    await Side.start(kind, endpoints, election, "b"),
  ] as const;
  await sides[0].request("campaign");
  await sides[0].request("elected");
  let turn = 1;
  return {
    name,
    async round(mode) {
      const waiter = sides[turn % 2] as Side;
      const leader = sides[(turn + 1) % 2] as Side;
      await waiter.request("campaign");
      const elected = waiter.request("elected");
      const resigned = await leader.request("handoff", { mode });
      turn++;
      return (await elected) - resigned;
    },
    async close() {
      await Promise.all(sides.map((side) => side.close()));
    },
  };
}

/**
 * The floor: a delete on one client, seen by a watch on another. With `recheck`, the second
 * client then makes one linearizable read, as any election that re-checks before it reports
 * "elected" must: the least such an election can take.
 */
async function rawFloor(endpoints: string[], recheck = false): Promise<Contender> {
  const key = `bench-raw-${recheck ? "read" : "event"}-${Date.now()}`;
  const writer = await Side.start("raw", endpoints, key);
  const reader = await Side.start("raw", endpoints, key);
  return {
    name: recheck ? "raw floor + one linearizable read" : "raw floor (delete → watch event)",
    async round(mode) {
      const revision = String(await writer.request("put"));
      await reader.request("arm", { mode, revision, recheck });
      const seen = reader.request("seen");
      const deleted = await writer.request("delete", { mode });
      return (await seen) - deleted;
    },
    async close() {
      await Promise.all([writer.close(), reader.close()]);
    },
  };
}

async function main(): Promise<void> {
  await using etcd = await etcdServer();
  const endpoints = [etcd.address];
  const contenders = [
    await rawFloor(endpoints),
    await rawFloor(endpoints, true),
    await turns("@elector/etcd", "elector", endpoints),
    await turns("etcd3 Election", "etcd3", endpoints),
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

  const rows: string[][] = [];
  for (const mode of ["settled", "fresh"] as const) {
    const named = contenders.map((contender) => ({
      name: contender.name,
      values: samples.get(`${contender.name}\u0000${mode}`) ?? [],
    }));
    const anchor = anchors.get(mode);
    for (const peer of anchor === undefined ? [] : [anchor.floor, anchor.election]) {
      named.push({ name: peer.peer, values: peer.samples });
    }
    const floor = percentile(named[0]?.values ?? [], 50);
    const goFloorP50 = anchor === undefined ? Number.NaN : percentile(anchor.floor.samples, 50);
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
