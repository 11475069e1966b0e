// Handoff latency of @elector/zookeeper: from the leader's resign() call to its successor's
// "elected" event, against
// - the floor: from a delete call to the data-watch event on a second session, with raw
//   clients (what any recipe built on watches pays at least);
// - a naive recipe in which every candidate keeps a child watch on the election node and
//   lists it again on every change (the herd),
// at 1, 50 and 500 waiting candidates. "Settled" waiters have stood in line with their watch
// set; a "fresh" waiter joins just before the handoff (its create answered, its predecessor
// not yet watched), which can only be the leader's successor in a line of two.
//
// Run: TSX_TSCONFIG_PATH=tsconfig.test.json pnpm exec tsx bench/zookeeper/handoff.ts
// Env: ROUNDS (default 200), CANDIDATES (default "1,50,500"), WARMUP (default 20);
// BENCH_SERVERS=local for a local ZooKeeper process, BENCH_ZOOKEEPER_CONNECT for yours.
// Curator's LeaderLatch and the Java client's floor (bench/anchors.ts) run on the same server,
// at the same line lengths, each in a process of its own.
import { cpus } from "node:os";
import type { Leadership, Logger } from "@elector/core";
import { createZooKeeperElector, type ZooKeeperElector } from "@elector/zookeeper";
import { zookeeperAnchors } from "../anchors.js";
import { zookeeperServer } from "../servers.js";
import { printTable, type Row, summarize } from "../stats.js";
import { ephemeral, ephemeralSequential, RawSession } from "./raw-session.js";

const rounds = Number(process.env.ROUNDS ?? 200);
const warmup = Number(process.env.WARMUP ?? 20);
const sizes = (process.env.CANDIDATES ?? "1,50,500").split(",").map(Number);
// Long enough that 500 sessions' heartbeats and a busy event loop never suspend anyone.
const sessionTimeoutMs = 10_000;

/** Calls `onLine(id, message)` for each log line of an elector whose logger it is. */
function tapLogger(onLine: (id: string, message: string) => void, id = ""): Logger {
  const log = (fields: Record<string, unknown> | string, message?: string) =>
    onLine(id, typeof fields === "string" ? fields : (message ?? ""));
  return {
    debug: log,
    info: log,
    warn: log,
    error: log,
    child: (bindings) => tapLogger(onLine, String(bindings.id ?? id)),
  };
}

/** Resolves when `id` logs `message` next. */
class LogWaiters {
  readonly #waiting = new Map<string, () => void>();
  readonly logger = tapLogger((id, message) => {
    const key = `${id}\u0000${message}`;
    const wake = this.#waiting.get(key);
    if (wake === undefined) return;
    this.#waiting.delete(key);
    wake();
  });

  next(id: string, message: string): Promise<void> {
    return new Promise((resolve) => this.#waiting.set(`${id}\u0000${message}`, resolve));
  }
}

/**
 * The floor, one sample at a time: a node deleted by one raw session, the data-watch event on
 * another. Sampled between the rounds of every scenario, so that both see the same load.
 */
class Floor {
  private constructor(
    private readonly deleter: RawSession,
    private readonly watcher: RawSession,
  ) {}

  static async open(connect: string): Promise<Floor> {
    const floor = new Floor(
      await RawSession.open(connect, sessionTimeoutMs),
      await RawSession.open(connect, sessionTimeoutMs),
    );
    await floor.deleter.ensure("/bench/floor");
    return floor;
  }

  async sample(): Promise<number> {
    const path = await this.deleter.create("/bench/floor/n", "", ephemeral);
    let fired: (at: number) => void = () => {};
    const event = new Promise<number>((resolve) => {
      fired = resolve;
    });
    await this.watcher.watchData(path, (type) => {
      if (type === 2) fired(performance.now());
    });
    const start = performance.now();
    const deleted = this.deleter.delete(path);
    const end = await event;
    await deleted;
    return end - start;
  }

  close(): void {
    this.deleter.close();
    this.watcher.close();
  }
}

/** Samples of one scenario and of the floor, taken in alternation. */
interface Paired {
  readonly samples: number[];
  readonly floor: number[];
}

/** Runs `round` warm-up + `rounds` times, each after one floor sample. */
async function paired(floor: Floor, round: () => Promise<number>): Promise<Paired> {
  const result: Paired = { samples: [], floor: [] };
  for (let index = 0; index < warmup + rounds; index++) {
    const floorSample = await floor.sample();
    const sample = await round();
    if (index < warmup) continue;
    result.floor.push(floorSample);
    result.samples.push(sample);
  }
  return result;
}

/** Electors in one election, with their "elected" times. */
async function electors(connect: string, count: number, election: string, logs: LogWaiters) {
  const made: ZooKeeperElector[] = [];
  let onElected: ((id: string, at: number) => void) | undefined;
  for (let index = 0; index < count; index++) {
    const elector = await createZooKeeperElector({
      servers: [connect],
      sessionTimeoutMs,
      election,
      id: `c${index}`,
      logger: logs.logger,
    });
    elector.on("elected", () => onElected?.(elector.id, performance.now()));
    made.push(elector);
  }
  return {
    made,
    nextElected: () =>
      new Promise<{ id: string; at: number }>((resolve) => {
        onElected = (id, at) => {
          onElected = undefined;
          resolve({ id, at });
        };
      }),
  };
}

async function oursSettled(connect: string, floor: Floor, waiters: number): Promise<Paired> {
  const logs = new LogWaiters();
  const election = `settled-${waiters}-${Date.now().toString(36)}`;
  const { made, nextElected } = await electors(connect, waiters + 1, election, logs);
  const terms = new Map<string, Promise<Leadership>>();
  try {
    const first = made[0] as ZooKeeperElector;
    terms.set(first.id, first.campaign());
    await terms.get(first.id);
    const settled = made
      .slice(1)
      .map((elector) => logs.next(elector.id, "waiting for the predecessor"));
    for (const elector of made.slice(1)) terms.set(elector.id, elector.campaign());
    await Promise.all(settled);
    let leaderId = first.id;
    return await paired(floor, async () => {
      const leadership = await (terms.get(leaderId) as Promise<Leadership>);
      const elected = nextElected();
      const start = performance.now();
      await leadership.resign();
      const successor = await elected;
      // The old leader queues again at the end and settles before the next round.
      const old = made.find((elector) => elector.id === leaderId) as ZooKeeperElector;
      const waiting = logs.next(old.id, "waiting for the predecessor");
      terms.set(old.id, old.campaign());
      await waiting;
      leaderId = successor.id;
      return successor.at - start;
    });
  } finally {
    await Promise.all(made.map((elector) => elector.close()));
  }
}

async function oursFresh(connect: string, floor: Floor): Promise<Paired> {
  const logs = new LogWaiters();
  const election = `fresh-${Date.now().toString(36)}`;
  const { made, nextElected } = await electors(connect, 2, election, logs);
  try {
    let [leader, fresh] = made as [ZooKeeperElector, ZooKeeperElector];
    let leadership = await leader.campaign();
    const result = await paired(floor, async () => {
      const joined = logs.next(fresh.id, "joined");
      const elected = nextElected();
      const campaign = fresh.campaign();
      await joined;
      const start = performance.now();
      await leadership.resign();
      const successor = await elected;
      leadership = await campaign;
      [leader, fresh] = [fresh, leader];
      return successor.at - start;
    });
    await leadership.resign();
    return result;
  } finally {
    await Promise.all(made.map((elector) => elector.close()));
  }
}

/** One candidate of the naive recipe: a child watch, and a full listing on every change. */
class NaiveCandidate {
  node: string | undefined;
  listing: string[] = [];
  #leading = false;
  #watching = false;

  constructor(
    readonly session: RawSession,
    readonly path: string,
    readonly onChange: (candidate: NaiveCandidate) => void,
  ) {}

  async join(): Promise<string> {
    this.#leading = false;
    this.node = (await this.session.create(`${this.path}/c-`, "", ephemeralSequential)).slice(
      this.path.length + 1,
    );
    // With a child watch already set, our own create fires it and the listing follows.
    if (!this.#watching) await this.relist();
    return this.node;
  }

  async leave(): Promise<void> {
    const node = this.node;
    this.node = undefined;
    if (node !== undefined) await this.session.delete(`${this.path}/${node}`);
  }

  get leading(): boolean {
    return this.#leading;
  }

  async relist(): Promise<void> {
    // One child watch at a time: each listing sets one, and the binding would call every
    // callback set on the path for one event.
    this.#watching = true;
    const children = await this.session
      .watchChildren(this.path, (type) => {
        if (type !== 4) return;
        this.#watching = false;
        // Fails only once the benchmark closes the sessions.
        this.relist().catch(() => {});
      })
      .catch((error: unknown) => {
        this.#watching = false;
        throw error;
      });
    this.listing = children;
    const lowest = [...children].sort()[0];
    if (this.node !== undefined && lowest === this.node) this.#leading = true;
    this.onChange(this);
  }
}

async function naive(connect: string, floor: Floor, waiters: number): Promise<Paired> {
  const path = `/bench/naive-${waiters}-${Date.now().toString(36)}`;
  let wake: (() => void) | undefined;
  const sessions: RawSession[] = [];
  const candidates: NaiveCandidate[] = [];
  const until = async (condition: () => boolean) => {
    while (!condition()) await new Promise<void>((resolve) => (wake = resolve));
  };
  try {
    for (let index = 0; index <= waiters; index++) {
      const session = await RawSession.open(connect, sessionTimeoutMs);
      sessions.push(session);
      candidates.push(new NaiveCandidate(session, path, () => wake?.()));
    }
    await sessions[0]?.ensure(path);
    for (const candidate of candidates) await candidate.join();
    const names = () => candidates.map((candidate) => candidate.node as string);
    await until(() => candidates.every((c) => names().every((n) => c.listing.includes(n))));
    return await paired(floor, async () => {
      const leader = candidates.find((candidate) => candidate.leading) as NaiveCandidate;
      const start = performance.now();
      await leader.leave();
      let elected: number | undefined;
      await until(() => {
        if (candidates.some((candidate) => candidate !== leader && candidate.leading)) {
          elected ??= performance.now();
          return true;
        }
        return false;
      });
      // The old leader queues again; every candidate sees it before the next round.
      const node = await leader.join();
      await until(() => candidates.every((candidate) => candidate.listing.includes(node)));
      return (elected as number) - start;
    });
  } finally {
    for (const session of sessions) session.close();
  }
}

const started = new Date();
console.log(
  `elector ZooKeeper handoff benchmark, ${started.toISOString()}, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}`,
);
console.log(`rounds ${rounds} (after ${warmup} warm-up), session timeout ${sessionTimeoutMs} ms`);
await using zookeeper = await zookeeperServer();
const connect = zookeeper.address;
console.log(`on ${zookeeper.description}, ${connect}`);
const floor = await Floor.open(connect);
const rows: Row[] = [];
const allFloor: number[] = [];
const add = (scenario: string, candidates: number, result: Paired) => {
  allFloor.push(...result.floor);
  const row = summarize(scenario, candidates, result.samples);
  const paired = summarize("floor", candidates, result.floor);
  rows.push({
    ...row,
    note: `floor in the same rounds: p50 ${paired.p50.toFixed(2)}, p99 ${paired.p99.toFixed(2)}; p50 = ${(row.p50 / paired.p50).toFixed(2)} × floor`,
  });
  console.log(`${scenario}, ${candidates}: done`);
};
try {
  add("elector, fresh waiter", 1, await oursFresh(connect, floor));
  for (const size of sizes) {
    add("elector, settled waiters", size, await oursSettled(connect, floor, size));
    add("naive: every candidate watches the children", size, await naive(connect, floor, size));
    const anchors = await zookeeperAnchors(
      connect,
      rounds,
      size,
      size === 1 ? ["settled", "fresh"] : ["settled"],
    );
    for (const [mode, anchor] of anchors) {
      rows.push(
        summarize(
          mode === "floor" ? anchor.peer : `${anchor.peer}, ${mode} waiter`,
          size,
          anchor.samples,
        ),
      );
    }
    console.log(`Curator and the Java floor, ${size}: done`);
  }
} finally {
  floor.close();
}
rows.unshift(summarize("floor: delete → data-watch event (raw), all rounds", "–", allFloor));
printTable(rows);
