import { resolveAndBind } from "../bind-elector.js";
import type { ElectorOptions, MemoryConfig, ResolvedMemoryConfig } from "../config/types.js";
import { DrivenElector } from "../driven-elector.js";
import {
  type CampaignRequest,
  type DriverContext,
  type ElectedTerm,
  type ElectionDriver,
  type LeaderListener,
  now,
  type TermControl,
} from "../driver.js";
import type { LeaderInfo, Participant } from "../elector.js";
import { InvalidOptionError } from "../errors.js";
import type { Logger } from "../logger.js";
import {
  type MemoryCandidate,
  type MemoryDeletion,
  type MemoryElection,
  type MemoryLease,
  memoryNamespace,
} from "./memory-server.js";

/**
 * Faults that a test can inject into one in-memory candidate, to see what its app does when
 * leadership is lost.
 */
export interface MemoryFaults {
  /**
   * Stops sending renewals, as a stalled process or a cut network would. The candidate steps
   * down at its local deadline, and then deletes its key, as a real candidate whose network
   * came back would; a candidate that cannot (say, one that is also closed) leaves the key to
   * the server, which drops it when the TTL has passed.
   */
  stopRenewals(): void;
  /** Sends renewals again (a lease that expired meanwhile stays expired). */
  resumeRenewals(): void;
  /** The server expires this candidate's lease now: a loss with `lease-expired`. */
  expireSession(): void;
  /** Someone else deletes this candidate's key now: a loss with `deleted`. */
  deleteKey(): void;
}

/** An {@link Elector} on the in-memory backend, with {@link MemoryFaults} for tests. */
export class MemoryElector extends DrivenElector {
  /** Fault injection for this candidate. */
  readonly faults: MemoryFaults;

  /** @internal Use {@link createMemoryElector} or `createElector("memory://…")`. */
  constructor(
    config: ResolvedMemoryConfig,
    options: { election: string; id: string; logger: Logger },
  ) {
    let driver: MemoryDriver | undefined;
    super(options, (context) => {
      driver = new MemoryDriver(config, context);
      return driver;
    });
    const own = driver as MemoryDriver;
    this.faults = Object.freeze({
      stopRenewals: () => own.setRenewing(false),
      resumeRenewals: () => own.setRenewing(true),
      expireSession: () => own.current?.lease.revoke("lease-expired"),
      deleteKey: () => own.current?.election.remove(own.current, "deleted"),
    });
  }
}

/** The in-memory backend's driver: one candidate on a {@link MemoryNamespace}. */
class MemoryDriver implements ElectionDriver {
  readonly backend = "memory";
  readonly #config: ResolvedMemoryConfig;
  readonly #election: MemoryElection;
  readonly #context: DriverContext;
  #renewing = true;
  /** The key of the campaign or term under way. */
  current: MemoryCandidate | undefined;

  constructor(config: ResolvedMemoryConfig, context: DriverContext) {
    this.#config = config;
    this.#context = context;
    this.#election = memoryNamespace(config.name).election(context.election);
  }

  setRenewing(renewing: boolean): void {
    this.#renewing = renewing;
  }

  async campaign(request: CampaignRequest): Promise<ElectedTerm> {
    const { term, signal } = request;
    signal.throwIfAborted();
    const { ttlMs, safetyMarginMs } = this.#config;
    // Taken before the grant, as a network client's send time would be: never after expiry.
    const sentAt = now();
    const lease = memoryNamespace(this.#config.name).grant(ttlMs);
    term.extendDeadline(sentAt + ttlMs - safetyMarginMs);
    const renewals = new MemoryRenewals(lease, ttlMs, () => this.#renewing, {
      renewed: (sentAt) => term.extendDeadline(sentAt + ttlMs - safetyMarginMs),
      expired: () => term.lose("lease-expired", "the server says the lease expired"),
    });
    const candidate = this.#election.join(lease, this.#context.id, request.value, (why) =>
      this.#deleted(why, request),
    );
    this.current = candidate;
    const stop = () => {
      renewals.stop();
      lease.revoke();
      if (this.current === candidate) this.current = undefined;
    };
    term.signal.addEventListener("abort", () => renewals.stop(), { once: true });

    try {
      await this.#waitForHead(candidate, signal, term);
      // Re-check: the key and its lease must still be ours when we report "elected".
      if (!this.#election.contains(candidate) || !lease.alive) {
        throw new Error("the candidate's key went away while it waited");
      }
    } catch (error) {
      stop();
      throw error;
    }
    return {
      token: candidate.createRevision,
      proclaim: async (value) => {
        if (!this.#election.setValue(candidate, value)) {
          throw new Error("the leader's key is gone");
        }
      },
      release: async () => stop(),
    };
  }

  #deleted(why: MemoryDeletion, request: CampaignRequest): void {
    if (why === "released") return;
    const reason = why === "lease-expired" ? "lease-expired" : "deleted";
    request.term.lose(reason, `the server removed the candidate's key (${why})`);
  }

  #waitForHead(candidate: MemoryCandidate, signal: AbortSignal, term: TermControl): Promise<void> {
    if (this.#election.isHead(candidate)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        candidate.onHead = undefined;
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      candidate.onHead = () => {
        candidate.onHead = undefined;
        term.predecessorGone();
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
    });
  }

  async participants(): Promise<Participant[]> {
    return this.#election.participants();
  }

  async leader(): Promise<LeaderInfo | undefined> {
    return this.#election.leader();
  }

  watchLeader(listener: LeaderListener, signal: AbortSignal): void {
    const stop = this.#election.observe((leader) => listener.change(leader));
    signal.addEventListener("abort", stop, { once: true });
  }

  async close(): Promise<void> {
    this.current?.lease.revoke();
  }
}

/** Keeps one memory lease alive every TTL/3, as an etcd client's keep-alive would. */
class MemoryRenewals {
  readonly #timer: NodeJS.Timeout;

  constructor(
    lease: MemoryLease,
    ttlMs: number,
    enabled: () => boolean,
    on: { renewed(sentAt: number): void; expired(): void },
  ) {
    // Keeps the process alive: a held candidacy depends on it alone, as on a socket elsewhere.
    this.#timer = setInterval(
      () => {
        if (!enabled()) return;
        const sentAt = now();
        if (lease.keepAlive()) on.renewed(sentAt);
        else on.expired();
      },
      Math.max(1, Math.floor(ttlMs / 3)),
    );
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * Creates an elector on the in-memory backend, typed with its {@link MemoryFaults}, for an
 * app's unit tests. `createElector("memory://…")` makes the same elector, typed as `Elector`.
 *
 * @throws InvalidOptionError when an option is wrong.
 *
 * @example
 * ```ts
 * const elector = createMemoryElector({ election: "jobs", name: "my-test", ttlMs: 300 });
 * elector.faults.stopRenewals(); // the leader steps down within 300 ms
 * ```
 */
export function createMemoryElector(
  options: ElectorOptions & Omit<MemoryConfig, "backend">,
): MemoryElector {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionError("options", options, "an object with at least { election }");
  }
  const { election, id, logger, ...memory } = options;
  if ("backend" in memory) {
    throw new InvalidOptionError("backend", memory.backend, "left out: this is the memory backend");
  }
  const bound = resolveAndBind(
    { ...memory, backend: "memory" },
    {
      election,
      ...(id === undefined ? {} : { id }),
      ...(logger === undefined ? {} : { logger }),
    },
  );
  return new MemoryElector(bound.config, bound.options);
}
