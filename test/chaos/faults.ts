// The nemesis's catalogue: one fault at a time, each healed before the next. The schedule
// (kinds, targets, durations) comes from the seed alone; whom "the leader" means is decided
// when the fault starts.
import { setTimeout as delay } from "node:timers/promises";
import type { FaultProxy } from "@elector/testing";
import type { ChaosProcess } from "./chaos-process.js";
import type { Random } from "./random.js";
import type { ChaosServers, Member } from "./servers.js";

export const faultKinds = [
  "pause-candidate",
  "kill-candidate",
  "block-loop",
  "partition",
  "latency",
  "reset",
  "close-campaigning",
  "oversized",
  "pause-member",
  "kill-member",
  "restart-member",
  "compaction",
] as const;

export type FaultKind = (typeof faultKinds)[number];

/** The kinds that `servers` allow: member faults need servers of the run's own. */
export function availableKinds(servers: ChaosServers): FaultKind[] {
  return faultKinds.filter((kind) => {
    if (kind.endsWith("-member")) return servers.members.length > 0;
    if (kind === "compaction") return servers.compact !== undefined;
    return true;
  });
}

/** One planned fault: what, and the random draws that pick its target and length. */
export interface PlannedFault {
  readonly kind: FaultKind;
  /** Aim at the leader (candidate faults) or the quorum leader (member faults). */
  readonly atLeader: boolean;
  /** Picks a non-leader target. */
  readonly pick: number;
  /** From 0 to 1: where in its range the fault's length falls. */
  readonly length: number;
}

/**
 * `count` faults: rounds in which every available kind occurs once, each round shuffled, so a
 * short run still covers the catalogue.
 */
export function planFaults(
  random: Random,
  kinds: readonly FaultKind[],
  count: number,
): PlannedFault[] {
  const plan: PlannedFault[] = [];
  while (plan.length < count) {
    for (const kind of random.shuffle(kinds)) {
      if (plan.length === count) break;
      plan.push({
        kind,
        atLeader: random.next() < 0.75,
        pick: random.next(),
        length: random.next(),
      });
    }
  }
  return plan;
}

/** A candidate as the nemesis sees it. */
export interface CandidateHandle {
  readonly id: string;
  readonly proxies: readonly FaultProxy[];
  readonly process: ChaosProcess;
  /** SIGKILLs it (an expected exit) and starts it again. */
  killAndRestart(): Promise<void>;
}

/** What a fault needs from the run. */
export interface FaultContext {
  readonly servers: ChaosServers;
  readonly candidates: readonly CandidateHandle[];
  /** The candidate that leads now, as the ledger says. */
  leader(): CandidateHandle | undefined;
  readonly ttlMs: number;
}

/** Where a fault was aimed, for the ledger. */
export interface Injected {
  readonly target: string;
  readonly targetIsLeader: boolean;
}

/** Injects `fault`, holds it, heals it; resolves once healed. */
export async function inject(fault: PlannedFault, context: FaultContext): Promise<Injected> {
  const { ttlMs, candidates } = context;
  // "Past the TTL": from the TTL plus half a second to the TTL plus one.
  const pastTtl = ttlMs + 500 + Math.round(fault.length * 500);
  const leader = context.leader();
  const chooseCandidate = (wantLeader: boolean): CandidateHandle => {
    if (wantLeader && leader !== undefined) return leader;
    const others = candidates.filter((candidate) => candidate !== leader);
    const pool = others.length > 0 ? others : candidates;
    return pool[Math.floor(fault.pick * pool.length)] as CandidateHandle;
  };
  const candidateFault = async (
    wantLeader: boolean,
    act: (candidate: CandidateHandle) => Promise<void>,
  ): Promise<Injected> => {
    const candidate = chooseCandidate(wantLeader);
    await act(candidate);
    return { target: candidate.id, targetIsLeader: candidate === leader };
  };
  switch (fault.kind) {
    case "pause-candidate":
      return candidateFault(fault.atLeader, async (candidate) => {
        candidate.process.freeze();
        await delay(pastTtl);
        candidate.process.thaw();
      });
    case "kill-candidate":
      return candidateFault(fault.atLeader, (candidate) => candidate.killAndRestart());
    case "block-loop":
      return candidateFault(fault.atLeader, async (candidate) => {
        candidate.process.send(`block ${pastTtl}`);
        await candidate.process.log
          .waitFor(
            (event) => event.event === "block-end",
            pastTtl + 30_000,
            candidate.process.log.events.length,
          )
          .catch(() => {});
      });
    case "partition":
      return candidateFault(fault.atLeader, async (candidate) => {
        for (const proxy of candidate.proxies) proxy.blackhole();
        await delay(pastTtl);
        for (const proxy of candidate.proxies) proxy.heal();
      });
    case "latency":
      return candidateFault(fault.atLeader, async (candidate) => {
        // Up to a fifth of the TTL each way: slow, yet inside what a healthy term survives.
        const ms = 20 + Math.round(fault.length * (ttlMs / 5));
        for (const proxy of candidate.proxies) proxy.latency(ms);
        await delay(ttlMs / 2);
        for (const proxy of candidate.proxies) proxy.heal();
      });
    case "reset":
      return candidateFault(fault.atLeader, async (candidate) => {
        for (const proxy of candidate.proxies) proxy.resetConnections();
      });
    case "close-campaigning":
      return candidateFault(false, async (candidate) => {
        candidate.process.send("close");
        await candidate.process.log
          .waitFor(
            (event) => event.event === "close-done" || event.event === "close-failed",
            30_000,
            candidate.process.log.events.length,
          )
          .catch(() => {});
      });
    case "oversized":
      return candidateFault(fault.atLeader, async (candidate) => {
        const from = candidate.process.log.events.length;
        candidate.process.send("oversized");
        await candidate.process.log
          .waitFor(
            (event) => event.event === "oversized" && event.call === "campaign",
            30_000,
            from,
          )
          .catch(() => {});
      });
    case "pause-member":
      return memberFault(context, fault, async (member) => {
        await member.server.pause();
        await delay(pastTtl);
        await member.server.unpause();
      });
    case "kill-member":
      return memberFault(context, fault, async (member) => {
        await member.server.stop();
        // Down for longer than a Raft or Zab election takes, so a killed quorum leader is
        // replaced before it returns.
        await delay(1_000 + Math.round(fault.length * 1_000));
        await member.server.restart({ timeoutMs: 120_000 });
      });
    case "restart-member":
      return memberFault(context, fault, (member) => member.server.restart({ timeoutMs: 120_000 }));
    case "compaction": {
      // Compactions while the line moves: the leader resigns, and etcd compacts every 50 ms
      // while its successor reads the line and starts its watches, which then may start at a
      // compacted revision.
      leader?.process.send("resign");
      const end = performance.now() + pastTtl;
      while (performance.now() < end) {
        await context.servers.compact?.().catch((error: unknown) => {
          // Nothing was written since the last compaction: etcd refuses the same revision.
          if (!String(error).includes("compacted")) throw error;
        });
        await delay(50);
      }
      return { target: leader?.id ?? "etcd", targetIsLeader: leader !== undefined };
    }
  }
}

async function memberFault(
  context: FaultContext,
  fault: PlannedFault,
  act: (member: Member) => Promise<void>,
): Promise<Injected> {
  const { members } = context.servers;
  const answers = await Promise.all(members.map((member) => member.isLeader().catch(() => false)));
  const quorumLeader = members[answers.indexOf(true)];
  const target =
    (fault.atLeader ? quorumLeader : undefined) ??
    (members[Math.floor(fault.pick * members.length)] as Member);
  await act(target);
  return { target: target.name, targetIsLeader: target === quorumLeader };
}
