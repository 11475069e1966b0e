// One backend's campaign: servers, the resource, the candidates behind their proxies, the
// nemesis's faults one at a time, then a clean close and the checker.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { FaultProxy } from "@elector/testing";
import { ChaosProcess, type Exit } from "./chaos-process.js";
import { type CheckResult, check, type HeldWrite } from "./checker.js";
import {
  availableKinds,
  type CandidateHandle,
  type FaultContext,
  type FaultKind,
  inject,
  planFaults,
} from "./faults.js";
import { LedgerWriter, readLedger } from "./ledger.js";
import { Random } from "./random.js";
import { type Backend, type ChaosServers, startServers } from "./servers.js";

export interface RunOptions {
  readonly backend: Backend;
  readonly seed: number;
  readonly faults: number;
  readonly broken: boolean;
  readonly candidates: number;
  readonly ledgerDir: string;
  /** Fault kinds to draw from; undefined for all the servers allow. */
  readonly kinds?: readonly FaultKind[] | undefined;
  /** The user's servers (ELECTOR_URL), else local containers. */
  readonly userUrl?: string | undefined;
  /** Prints a progress line. */
  readonly say: (line: string) => void;
}

export interface RunResult {
  readonly backend: Backend;
  readonly description: string;
  readonly ledger: string;
  readonly seconds: number;
  readonly faults: number;
  readonly result: CheckResult;
}

const election = "chaos";
/** How often a leader writes. */
const tickMs = 50;

/** A candidate process, restarted under the same id after a kill. */
class Candidate implements CandidateHandle {
  process: ChaosProcess;
  #expectExit = false;

  constructor(
    readonly id: string,
    readonly proxies: readonly FaultProxy[],
    private readonly env: Record<string, string>,
    private readonly ledger: LedgerWriter,
  ) {
    this.process = this.#spawn();
  }

  #spawn(): ChaosProcess {
    const child = new ChaosProcess(this.id, "./candidate-main.ts", this.env);
    const pid = child.pid;
    void child.exited.then((exit: Exit) => {
      // A candidate stopped while still loading had no elector to close: SIGTERM's default
      // action ends it, as it would a real app at that point.
      const loading = !child.log.events.some((event) => event.event === "started");
      const expected =
        this.#expectExit &&
        (exit.signal === "SIGKILL" || exit.code === 0 || (exit.signal === "SIGTERM" && loading));
      this.ledger.record("exit", {
        cand: this.id,
        pid,
        code: exit.code,
        signal: exit.signal,
        expected,
        ...(expected
          ? {}
          : { why: this.#expectExit ? "did not close in time" : child.stderr().slice(-500) }),
      });
    });
    return child;
  }

  async killAndRestart(): Promise<void> {
    this.#expectExit = true;
    await this.process.kill();
    this.#expectExit = false;
    this.process = this.#spawn();
  }

  /** Asks it to close and exit; one that does not within `timeoutMs` is killed, and that counts. */
  async stop(timeoutMs: number): Promise<void> {
    this.#expectExit = true;
    const exit = await this.process.stop(timeoutMs);
    if (exit.code !== 0) this.#expectExit = false;
  }

  /** The token it leads with now, as its own reports say. */
  leading(): bigint | undefined {
    const events = this.process.log.events;
    for (let i = events.length - 1; i >= 0; i--) {
      const event = events[i];
      if (event?.event === "term-end") return undefined;
      if (event?.event === "elected") return BigInt(event.token as string);
    }
    return undefined;
  }

  /** Whether it acknowledged a write after `t`. */
  wroteAfter(t: bigint): boolean {
    const events = this.process.log.events;
    for (let i = events.length - 1; i >= 0; i--) {
      const event = events[i];
      if (event === undefined || BigInt(event.t as string) <= t) return false;
      if (event.event === "ack") return true;
    }
    return false;
  }
}

export async function runCampaign(options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const { backend, seed, say } = options;
  const runId = `${seed}-${process.pid}`;
  mkdirSync(options.ledgerDir, { recursive: true });
  const ledgerPath = join(
    options.ledgerDir,
    `${backend}-seed-${seed}-${new Date().toISOString().replace(/[:.]/g, "-")}.jsonl`,
  );
  writeFileSync(ledgerPath, "");
  const nemesis = new LedgerWriter(ledgerPath, "nemesis");
  const random = new Random(seed);

  say(`starting servers`);
  const servers = await startServers(backend, runId, election, options.userUrl);
  const ttlMs = servers.ttlMs;
  const proxies: FaultProxy[] = [];
  const candidates: Candidate[] = [];
  let resource: ChaosProcess | undefined;
  let held: HeldWrite[] | undefined;
  let leftovers: { nodes: string[]; leases: string[] } = { nodes: [], leases: [] };
  nemesis.record("run", {
    backend,
    seed,
    faults: options.faults,
    broken: options.broken,
    ttlMs,
    servers: servers.description,
  });
  say(
    `${servers.description}; TTL ${ttlMs} ms; ${options.candidates} candidates; seed ${seed}; ledger ${ledgerPath}`,
  );
  try {
    resource = new ChaosProcess("resource", "./resource-main.ts", { CHAOS_LEDGER: ledgerPath });
    const ready = await resource.log.waitFor((event) => event.event === "ready", 60_000);
    const resourceUrl = `http://127.0.0.1:${ready.port}`;
    for (let index = 1; index <= options.candidates; index++) {
      const mine = await Promise.all(
        servers.hosts.map((host) => FaultProxy.start({ target: host })),
      );
      proxies.push(...mine);
      const id = `c${index}`;
      candidates.push(
        new Candidate(
          id,
          mine,
          {
            CHAOS_URL: servers.urlFor(mine.map((proxy) => proxy.endpoint)),
            CHAOS_ELECTION: election,
            CHAOS_ID: id,
            CHAOS_LEDGER: ledgerPath,
            CHAOS_RESOURCE: resourceUrl,
            CHAOS_TICK_MS: String(tickMs),
            CHAOS_TTL_MS: String(ttlMs),
            // Both ways of contending through the public API.
            CHAOS_MODE: index % 2 === 1 ? "lead" : "campaign",
            CHAOS_BREAK: options.broken ? "1" : "0",
            CHAOS_ZOMBIE_MS: String(2 * ttlMs),
          },
          nemesis,
        ),
      );
    }
    const leader = () => {
      let best: { candidate: Candidate; token: bigint } | undefined;
      for (const candidate of candidates) {
        const token = candidate.leading();
        if (token !== undefined && (best === undefined || token > best.token))
          best = { candidate, token };
      }
      return best;
    };
    // Generous: starting the first elector includes tsx compiling the sources.
    const settleBoundMs = 4 * ttlMs + 30_000;
    const firstLeader = await settle(candidates, process.hrtime.bigint(), settleBoundMs + 60_000);
    if (!firstLeader)
      throw new Error(
        `no candidate led and wrote within ${(settleBoundMs + 60_000) / 1000} s of the start`,
      );

    const context: FaultContext = {
      servers,
      candidates,
      leader: () => leader()?.candidate,
      ttlMs,
    };
    const allowed = availableKinds(servers);
    const kinds = options.kinds?.filter((kind) => allowed.includes(kind)) ?? allowed;
    if (kinds.length === 0) {
      throw new Error(
        `none of the fault kinds ${options.kinds?.join(", ")} applies to ${servers.description}`,
      );
    }
    const plan = planFaults(random, kinds, options.faults);
    for (const [index, fault] of plan.entries()) {
      const n = index + 1;
      await servers.observe().catch(() => {});
      const before = leader();
      nemesis.record("fault", {
        n,
        kind: fault.kind,
        leader: before?.candidate.id,
        leaderToken: before?.token,
      });
      let outcome: string;
      try {
        const injected = await inject(fault, context);
        nemesis.record("healed", { n, kind: fault.kind, ...injected });
        outcome = `${injected.target}${injected.targetIsLeader ? " (leader)" : ""}`;
      } catch (error) {
        // The fault itself failed (Docker, say): the run goes on, and says so.
        const message = error instanceof Error ? error.message : String(error);
        nemesis.record("fault-failed", { n, kind: fault.kind, message });
        outcome = `failed to inject: ${message}`;
      }
      const ok = await settle(candidates, process.hrtime.bigint(), settleBoundMs);
      nemesis.record("settled", { n, ok });
      const now = leader();
      say(
        `fault ${n}/${plan.length} ${fault.kind} → ${outcome}; ${ok ? `leader ${now?.candidate.id ?? "?"} token ${now?.token ?? "?"}` : `no leader wrote within ${settleBoundMs / 1000} s`}`,
      );
      await delay(random.integer(50, 300));
    }
  } finally {
    say("closing candidates");
    await Promise.all(candidates.map((candidate) => candidate.stop(3 * ttlMs + 10_000)));
    for (const proxy of proxies) await proxy.close();
    // What a killed candidate held expires within its TTL, later if a quorum leader changed.
    await delay(2 * ttlMs + 1_000);
    try {
      leftovers = await servers.leftovers();
    } catch (error) {
      leftovers = {
        nodes: [
          `(the run's root could not be inspected: ${error instanceof Error ? error.message : String(error)})`,
        ],
        leases: [],
      };
    }
    if (resource !== undefined) {
      const port = resource.log.events.find((event) => event.event === "ready")?.port;
      if (port !== undefined) {
        held = await fetch(`http://127.0.0.1:${port}/entries`)
          .then((response) => response.json() as Promise<HeldWrite[]>)
          .catch(() => undefined);
      }
      await resource.stop(5_000);
    }
    await servers
      .stop()
      .catch((error: unknown) => say(`could not stop the servers: ${String(error)}`));
  }
  const result = check(readLedger(ledgerPath), { held, ...leftovers });
  return {
    backend,
    description: servers.description,
    ledger: ledgerPath,
    seconds: Math.round((performance.now() - started) / 1000),
    faults: options.faults,
    result,
  };
}

/** Waits until a candidate acknowledges a write made after `after`; false past `boundMs`. */
async function settle(
  candidates: readonly Candidate[],
  after: bigint,
  boundMs: number,
): Promise<boolean> {
  const deadline = performance.now() + boundMs;
  while (performance.now() < deadline) {
    if (candidates.some((candidate) => candidate.wroteAfter(after))) return true;
    await delay(25);
  }
  return false;
}

export type { ChaosServers };
