// Scale: 1,000 candidates on one election, sharing one client (one connection, one watch
// stream, one keep-alive stream). Reports the time until all are registered and waiting,
// the memory they take, the handoff time at the head of the line, and how many waiters each
// handoff wakes: it must be one, the successor.
//
// Run: TSX_TSCONFIG_PATH=tsconfig.test.json pnpm exec tsx --expose-gc bench/etcd/scale.ts
// That runs the sources through tsx, whose esbuild keeps function names by redefining `name`
// on every named closure: some 250 B each, about 7 KiB per candidate that the published code
// does not have. TSX_TSCONFIG_PATH=bench/etcd/tsconfig.built.json measures the built packages
// (`pnpm build` first), as an app gets them.
// Environment: CANDIDATES (default 1000), HANDOFFS (default 20), ELECTOR_ETCD_IMAGE;
// HEAP_SNAPSHOT=<prefix> writes <prefix>-before/-after.heapsnapshot to diff by constructor;
// BENCH_SERVERS=local for a local etcd process, BENCH_ETCD_ENDPOINTS for yours
// (bench/servers.ts).

import { writeHeapSnapshot } from "node:v8";
import type { Logger } from "@elector/core";
import { createEtcdElector, type EtcdElector, etcdClientOptions } from "@elector/etcd";
import { Etcd3 } from "etcd3";
import { etcdScaleAnchors } from "../anchors.js";
import { etcdServer } from "../servers.js";
import { delay, machine, ms, percentile, table } from "../stats.js";

const candidates = Number(process.env.CANDIDATES ?? 1000);
const handoffs = Number(process.env.HANDOFFS ?? 20);
const ttlSeconds = 10;

/**
 * Counts the driver's messages: "waiting" once per waiter, "woken" once per wake, and any
 * warning (a replaced keep-alive stream, say).
 */
class CountingLogger implements Logger {
  readonly counts = new Map<string, number>();
  /** When each message was last counted, in `performance.now()` milliseconds. */
  readonly last = new Map<string, number>();
  readonly debug = (fields: unknown, message?: string) => this.count(message ?? fields);
  readonly info = () => {};
  readonly warn = (fields: unknown, message?: string) => this.count(message ?? fields);
  readonly error = (fields: unknown, message?: string) => this.count(message ?? fields);
  child(): Logger {
    return this;
  }
  get(message: string): number {
    return this.counts.get(message) ?? 0;
  }
  private count(message: unknown): void {
    if (typeof message !== "string") return;
    this.counts.set(message, this.get(message) + 1);
    this.last.set(message, performance.now());
  }
}

/** Where to write heap snapshots before and after the candidates, if anywhere. */
const snapshotPrefix = process.env.HEAP_SNAPSHOT;

function heapMiB(label: string): { heap: number; rss: number } {
  globalThis.gc?.();
  if (snapshotPrefix) writeHeapSnapshot(`${snapshotPrefix}-${label}.heapsnapshot`);
  globalThis.gc?.();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed / 2 ** 20, rss: usage.rss / 2 ** 20 };
}

/**
 * How many candidates are in line. Apart from main(): the list read would otherwise stay in
 * main's frame while the heap is measured, and count as the candidates' heap.
 */
async function lineLength(elector: EtcdElector): Promise<number> {
  return (await elector.participants()).length;
}

async function main(): Promise<void> {
  await using etcd = await etcdServer();
  const client = new Etcd3(etcdClientOptions({ endpoints: [etcd.address] }));
  const logger = new CountingLogger();
  const election = `bench-scale-${Date.now()}`;
  const before = heapMiB("before");

  const started = performance.now();
  const electors: EtcdElector[] = [];
  for (let index = 0; index < candidates; index++) {
    electors.push(
      await createEtcdElector({ election, id: `c${index}`, client, ttlSeconds, logger }),
    );
  }
  const createdMs = performance.now() - started;
  const campaigns = electors.map((elector) => elector.campaign());
  // Counted from the driver's own messages: polling participants() (a read of the whole
  // line every few milliseconds) would load the server and the client it measures.
  while (logger.get("joined the line") < candidates) await delay(5);
  while (logger.get("waiting") < candidates - 1) await delay(5);
  const observer = electors[0] as EtcdElector;
  const inLine = await lineLength(observer);
  if (inLine !== candidates) throw new Error(`${inLine} candidates in line, not ${candidates}`);
  const after = heapMiB("after");
  // Where the time went: the last lease granted, the last join answered, the last waiter.
  const at = (message: string) => (logger.last.get(message) ?? Number.NaN) - started;
  const registeredMs = at("joined the line");
  const waitingMs = at("waiting");
  const granted = `${ms(at("lease granted"))} ms (${logger.get("lease granted")})`;

  // Hand over at the head of the line: each resign must wake exactly one waiter. The line
  // is in join order, which concurrent joins leave to chance: the next leader is whichever
  // campaign resolves.
  const pending = new Map(
    campaigns.map((campaign, index) => [
      index,
      campaign.then((leadership) => ({ index, leadership })),
    ]),
  );
  let { index: leaderIndex, leadership: leading } = await Promise.race(pending.values());
  pending.delete(leaderIndex);
  const woken: number[] = [];
  const took: number[] = [];
  for (let handoff = 1; handoff <= handoffs; handoff++) {
    await delay(200);
    const wokenBefore = logger.get("woken");
    const begin = performance.now();
    const resigned = leading.resign();
    ({ index: leaderIndex, leadership: leading } = await Promise.race(pending.values()));
    took.push(performance.now() - begin);
    pending.delete(leaderIndex);
    await resigned;
    // Give any other waiter that might wrongly wake the time to say so.
    await delay(200);
    woken.push(logger.get("woken") - wokenBefore);
  }

  const closing = performance.now();
  await Promise.all(electors.map((elector) => elector.close()));
  await Promise.allSettled(pending.values());
  const closeMs = performance.now() - closing;
  client.close();
  // The same line's writes from Go, on the same server, after ours: a lease and a key each
  // (the floor), and etcd's Go concurrency.Election (bench/anchors.ts).
  const anchors = await etcdScaleAnchors([etcd.address], candidates);

  console.log(
    `${candidates} candidates on one election, one shared client, TTL ${ttlSeconds} s, on ${etcd.description}`,
  );
  console.log(machine());
  console.log(
    table(
      ["measure", "value"],
      [
        ["electors created (before any campaign)", `${ms(createdMs)} ms`],
        ["every lease granted (last grant's answer)", granted],
        ["all registered (last join's answer: every key in line)", `${ms(registeredMs)} ms`],
        ["all waiting (every waiter registered on the line)", `${ms(waitingMs)} ms`],
        ...anchors.map((anchor) => [
          `${anchor.peer}: ${candidates} in line on one Go client`,
          `${ms(anchor.samples[0] ?? Number.NaN)} ms`,
        ]),
        [
          "heap used by the candidates",
          `${(after.heap - before.heap).toFixed(1)} MiB (${(((after.heap - before.heap) * 1024) / candidates).toFixed(1)} KiB each)`,
        ],
        ["RSS growth", `${(after.rss - before.rss).toFixed(1)} MiB`],
        [
          "handoff at the head, p50 / max",
          `${ms(percentile(took, 50))} / ${ms(Math.max(...took))} ms over ${handoffs}`,
        ],
        [
          "waiters woken per handoff",
          `${Math.min(...woken)}–${Math.max(...woken)} (total ${woken.reduce((a, b) => a + b, 0)} over ${handoffs})`,
        ],
        ["close all", `${ms(closeMs)} ms`],
        [
          "warnings (replaced keep-alive streams, failed revokes…)",
          JSON.stringify(
            [...logger.counts].filter(
              ([message]) =>
                !["waiting", "woken"].includes(message) && /fail|could not/.test(message),
            ),
          ),
        ],
      ],
    ),
  );
}

await main();
