import { parseElectorUrl } from "@elector/core";
import type { DemoBackend } from "./backend.js";
import {
  type Candidate,
  type CandidateSetup,
  InProcessCandidate,
  ProcessCandidate,
} from "./candidates.js";
import { EventLog, is, type LoggedEvent } from "./event-log.js";
import { Ledger } from "./ledger.js";

/** What the demo measured; {@link runScenario} has checked it before returning. */
export interface DemoResult {
  readonly leaders: readonly { readonly id: string; readonly token: bigint }[];
  readonly failoverAfterFreezeMs: number;
  readonly failoverAfterKillMs: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly stale: { readonly id: string; readonly token: bigint; readonly highest: bigint };
}

/** Where the timeline goes. */
export type Print = (who: string, text: string) => void;

const ids = ["alpha", "bravo", "charlie"] as const;
/** How often the leader's job writes to the ledger. */
const tickMs = 400;
/** Time for something that should happen about now, on a busy machine. */
const slackMs = 5_000;
/** Starting three candidate processes from TypeScript sources on a busy machine. */
const startupMs = 30_000;

const reasons: Readonly<Record<string, string>> = {
  "deadline-passed": "no renewal was acknowledged in time, so it stepped down on its own clock",
  "lease-expired": "the server says its lease expired",
  "session-expired": "the server says its session expired",
  "connection-lost": "its connection was lost for too long",
  deleted: "its key was deleted",
};

/**
 * The story: three candidates of a singleton job; the leader ticks and writes to a fenced
 * ledger; it is frozen right before a write, a successor takes over, the frozen leader
 * thaws and its write is refused by the fence; then the new leader is killed and a third
 * term begins.
 *
 * @throws Error when something does not happen within its bound, or a check fails.
 */
export async function runScenario(
  backend: DemoBackend,
  print: Print,
  track: (candidates: readonly Candidate[]) => void,
): Promise<DemoResult> {
  const log = new EventLog();
  const failoverBoundMs = 2 * backend.ttlMs + slackMs;
  await using ledger = await Ledger.start();
  const setup: CandidateSetup = {
    url: backend.url,
    election: `demo-${Date.now().toString(36)}`,
    ledgerUrl: ledger.url,
    tickMs,
    log,
  };
  const unsubscribe = log.subscribe((event) => describeEvent(event, print));
  print(
    "demo",
    `starting ${ids.join(", ")}: each campaigns with lead() and, while leading, writes one ledger line per tick`,
  );
  const candidates = new Map<string, Candidate>(
    ids.map((id) => [
      id,
      backend.mode === "processes"
        ? new ProcessCandidate(id, setup)
        : new InProcessCandidate(id, setup, memoryOptions(backend.url)),
    ]),
  );
  track([...candidates.values()]);
  const candidate = (id: string) => candidates.get(id) as Candidate;
  const alive = new Set<string>(ids);

  try {
    // All three in line before any fault, so that a failover measures the backend alone.
    for (const id of ids) {
      await log.waitFor(
        `${id} to campaign`,
        (event): event is LoggedEvent & { type: "ready" } => is.ready(event) && event.id === id,
        startupMs,
      );
    }
    const first = await log.waitFor("the first leader", is.elected, startupMs);
    await waitForWrites(log, first, 3, tickMs * 3 + slackMs);

    // The worst moment for a pause: the leader has checked isActive() and not yet written.
    const holdFrom = log.events.length;
    candidate(first.id).holdNextWrite();
    const held = await log.waitFor(
      `${first.id} to reach its next write`,
      (event): event is LoggedEvent & { type: "holding" } =>
        is.holding(event) && event.id === first.id,
      tickMs + slackMs,
      holdFrom,
    );
    const frozenFrom = log.events.length;
    candidate(first.id).freeze();
    const frozenAt = performance.now();
    print(
      "demo",
      backend.mode === "processes"
        ? `freezing ${first.id} (SIGSTOP) after its isActive() check for tick ${held.tick}, before the write: a GC pause at the worst moment`
        : `freezing ${first.id} (renewals stopped, tick ${held.tick} held after its isActive() check, before the write): a GC pause at the worst moment`,
    );

    const second = await log.waitFor(
      "a new leader after the freeze",
      (event): event is LoggedEvent & { type: "elected" } =>
        is.elected(event) && event.id !== first.id,
      failoverBoundMs,
      frozenFrom,
    );
    const failoverAfterFreezeMs = Math.round(second.at - frozenAt);
    print(
      "demo",
      `failover: ${second.id} leads ${failoverAfterFreezeMs} ms after ${first.id} froze`,
    );
    await waitForWrites(log, second, 1, tickMs + slackMs);

    print(
      "demo",
      `thawing ${first.id}${backend.mode === "processes" ? " (SIGCONT)" : ""}: its held write goes out with its old token ${held.token}`,
    );
    candidate(first.id).thaw();
    candidate(first.id).release();
    const staleWrite = await log.waitFor(
      `${first.id}'s held write`,
      (event): event is LoggedEvent & { type: "write" } =>
        is.write(event) &&
        event.id === first.id &&
        event.tick === held.tick &&
        event.token === held.token,
      slackMs,
      frozenFrom,
    );
    if (staleWrite.accepted)
      throw new Error(`the fence admitted ${first.id}'s stale write with token ${held.token}`);
    await log.waitFor(
      `${first.id} to step down`,
      (event): event is LoggedEvent & { type: "lost" } =>
        is.lost(event) && event.id === first.id && event.token === first.token,
      slackMs,
      holdFrom,
    );
    await waitForWrites(log, second, 3, 2 * tickMs + slackMs);

    const killedFrom = log.events.length;
    const killedAt = performance.now();
    await candidate(second.id).kill();
    alive.delete(second.id);
    print(
      "demo",
      backend.mode === "processes"
        ? `killed ${second.id} (SIGKILL): its lease or session ends on the server within the TTL`
        : `killed ${second.id}: memory expires its session at once, where a server would take up to the TTL`,
    );
    const third = await log.waitFor(
      "a new leader after the kill",
      (event): event is LoggedEvent & { type: "elected" } =>
        is.elected(event) && event.id !== second.id,
      failoverBoundMs,
      killedFrom,
    );
    const failoverAfterKillMs = Math.round(third.at - killedAt);
    print(
      "demo",
      `failover: ${third.id} leads ${failoverAfterKillMs} ms after ${second.id} was killed`,
    );
    await waitForWrites(log, third, 2, tickMs + slackMs);

    // Followers first: were the leader first, a follower could win a last term meanwhile.
    print("demo", "stopping: each candidate resigns and closes its elector");
    await Promise.all([...alive].filter((id) => id !== third.id).map((id) => candidate(id).stop()));
    await candidate(third.id).stop();
    alive.clear();

    const leaders = [first, second, third].map(({ id, token }) => ({ id, token: BigInt(token) }));
    const result: DemoResult = {
      leaders,
      failoverAfterFreezeMs,
      failoverAfterKillMs,
      accepted: ledger.entries.length,
      rejected: ledger.rejected,
      stale: {
        id: first.id,
        token: BigInt(held.token),
        highest: BigInt(staleWrite.highest ?? "0"),
      },
    };
    check(result, ledger);
    return result;
  } finally {
    unsubscribe();
    await Promise.all([...alive].map((id) => candidate(id).kill()));
  }
}

/** Waits until `leader` has made `count` accepted writes in its term. */
async function waitForWrites(
  log: EventLog,
  leader: LoggedEvent & { type: "elected" },
  count: number,
  timeoutMs: number,
): Promise<void> {
  const start = log.events.indexOf(leader);
  const deadline = performance.now() + timeoutMs;
  for (let seen = 0, from = start; seen < count; seen++) {
    const write = await log.waitFor(
      `${leader.id}'s write ${seen + 1} with token ${leader.token}`,
      (event): event is LoggedEvent & { type: "write" } =>
        is.write(event) && event.id === leader.id && event.token === leader.token && event.accepted,
      Math.max(0, deadline - performance.now()),
      from,
    );
    from = log.events.indexOf(write) + 1;
  }
}

/** What the demo claims, checked against the ledger itself. */
function check(result: DemoResult, ledger: Ledger): void {
  const [first, second, third] = result.leaders;
  if (!(first && second && third && first.token < second.token && second.token < third.token)) {
    throw new Error(
      `tokens must grow with each term: ${result.leaders.map((leader) => leader.token).join(", ")}`,
    );
  }
  if (result.rejected !== 1) throw new Error(`the ledger refused ${result.rejected} writes, not 1`);
  let highest = 0n;
  for (const entry of ledger.entries) {
    if (entry.token < highest)
      throw new Error(`the ledger took a write with token ${entry.token} after ${highest}`);
    highest = entry.token;
  }
}

function memoryOptions(url: string): { name: string; ttlMs: number } {
  const config = parseElectorUrl(url);
  if (config.backend !== "memory") throw new Error(`${url} is not a memory URL`);
  return { name: config.name ?? "default", ttlMs: config.ttlMs ?? 10_000 };
}

function describeEvent(event: LoggedEvent, print: Print): void {
  switch (event.type) {
    case "ready":
      print(event.id, "campaigning");
      return;
    case "elected":
      print(event.id, `elected, fencing token ${event.token}`);
      return;
    case "holding":
      print(event.id, `tick ${event.tick}: isActive() is true, about to write…`);
      return;
    case "write":
      print(
        event.id,
        event.accepted
          ? `tick ${event.tick}: ledger write accepted (token ${event.token})`
          : `tick ${event.tick}: ledger write REJECTED by the fence: token ${event.token} is stale, the ledger has seen ${event.highest}`,
      );
      return;
    case "lost":
      print(
        event.id,
        `stepped down (${event.reason}): ${reasons[event.reason] ?? "leadership lost"}`,
      );
      return;
    case "stopped":
      print(event.id, "resigned and stopped");
      return;
  }
}
