import type { LeaderInfo, Participant } from "../elector.js";

/** Why a candidate's key went away, as the server saw it. */
export type MemoryDeletion = "released" | "lease-expired" | "deleted";

/** A key in an election's line: one candidate. */
export interface MemoryCandidate {
  readonly id: string;
  value: string;
  readonly createRevision: bigint;
  readonly lease: MemoryLease;
  readonly election: MemoryElection;
  /** Told once, when the key goes. */
  readonly onDelete: (why: MemoryDeletion) => void;
  /** Told when this candidate becomes the first in line. */
  onHead: (() => void) | undefined;
}

/**
 * The in-process stand-in for the coordination service: what etcd would keep, kept in a
 * Map, with the same rules. Keys live on leases that expire unless kept alive; each write gets
 * the next revision of the namespace; the first key in line leads; a departure wakes only the
 * new head.
 */
export class MemoryNamespace {
  readonly name: string;
  readonly #elections = new Map<string, MemoryElection>();
  #revision = 0n;
  #leaseIds = 0;

  constructor(name: string) {
    this.name = name;
  }

  /** The next revision: every write takes one, so create revisions strictly increase. */
  nextRevision(): bigint {
    this.#revision += 1n;
    return this.#revision;
  }

  election(name: string): MemoryElection {
    let election = this.#elections.get(name);
    if (election === undefined) {
      election = new MemoryElection(this, name);
      this.#elections.set(name, election);
    }
    return election;
  }

  grant(ttlMs: number): MemoryLease {
    this.#leaseIds += 1;
    return new MemoryLease(this.#leaseIds, ttlMs);
  }
}

/** A lease: its keys go when it is not kept alive for `ttlMs`. */
export class MemoryLease {
  readonly id: number;
  readonly ttlMs: number;
  readonly #keys = new Set<MemoryCandidate>();
  #timer: NodeJS.Timeout | undefined;
  #alive = true;

  constructor(id: number, ttlMs: number) {
    this.id = id;
    this.ttlMs = ttlMs;
    this.keepAlive();
  }

  get alive(): boolean {
    return this.#alive;
  }

  attach(candidate: MemoryCandidate): void {
    this.#keys.add(candidate);
  }

  detach(candidate: MemoryCandidate): void {
    this.#keys.delete(candidate);
  }

  /** @returns false when the lease is already gone. */
  keepAlive(): boolean {
    if (!this.#alive) return false;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.revoke("lease-expired"), this.ttlMs);
    // The server's clock must not keep an app alive; the candidate's renewals do.
    this.#timer.unref();
    return true;
  }

  revoke(why: MemoryDeletion = "released"): void {
    if (!this.#alive) return;
    this.#alive = false;
    clearTimeout(this.#timer);
    for (const candidate of [...this.#keys]) candidate.election.remove(candidate, why);
  }
}

/** One election's line of candidates, ordered by create revision. */
export class MemoryElection {
  readonly name: string;
  readonly #namespace: MemoryNamespace;
  readonly #line: MemoryCandidate[] = [];
  readonly #observers = new Set<(leader: LeaderInfo | undefined) => void>();

  constructor(namespace: MemoryNamespace, name: string) {
    this.#namespace = namespace;
    this.name = name;
  }

  join(
    lease: MemoryLease,
    id: string,
    value: string,
    onDelete: (why: MemoryDeletion) => void,
  ): MemoryCandidate {
    const candidate: MemoryCandidate = {
      id,
      value,
      createRevision: this.#namespace.nextRevision(),
      lease,
      election: this,
      onDelete,
      onHead: undefined,
    };
    this.#line.push(candidate);
    lease.attach(candidate);
    if (this.#line.length === 1) this.#notifyObservers();
    return candidate;
  }

  isHead(candidate: MemoryCandidate): boolean {
    return this.#line[0] === candidate;
  }

  contains(candidate: MemoryCandidate): boolean {
    return this.#line.includes(candidate);
  }

  setValue(candidate: MemoryCandidate, value: string): boolean {
    if (!this.contains(candidate)) return false;
    this.#namespace.nextRevision();
    candidate.value = value;
    if (this.isHead(candidate)) this.#notifyObservers();
    return true;
  }

  remove(candidate: MemoryCandidate, why: MemoryDeletion): void {
    const index = this.#line.indexOf(candidate);
    if (index === -1) return;
    this.#namespace.nextRevision();
    this.#line.splice(index, 1);
    candidate.lease.detach(candidate);
    candidate.onDelete(why);
    if (index === 0) {
      // Only the new head is woken: the rest of the line sleeps on.
      this.#line[0]?.onHead?.();
      this.#notifyObservers();
    }
  }

  leader(): LeaderInfo | undefined {
    const head = this.#line[0];
    return head === undefined ? undefined : info(head);
  }

  participants(): Participant[] {
    return this.#line.map((candidate, index) => ({ ...info(candidate), leader: index === 0 }));
  }

  observe(observer: (leader: LeaderInfo | undefined) => void): () => void {
    this.#observers.add(observer);
    observer(this.leader());
    return () => this.#observers.delete(observer);
  }

  #notifyObservers(): void {
    const leader = this.leader();
    for (const observer of [...this.#observers]) observer(leader);
  }
}

function info(candidate: MemoryCandidate): LeaderInfo {
  return { id: candidate.id, value: candidate.value, token: candidate.createRevision };
}

const namespaces = new Map<string, MemoryNamespace>();

/** The namespace `memory://name` points at; electors in one process share it by name. */
export function memoryNamespace(name: string): MemoryNamespace {
  let namespace = namespaces.get(name);
  if (namespace === undefined) {
    namespace = new MemoryNamespace(name);
    namespaces.set(name, namespace);
  }
  return namespace;
}
