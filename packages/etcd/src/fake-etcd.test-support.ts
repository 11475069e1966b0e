// An in-memory stand-in for the parts of etcd a campaign uses, for unit tests: keys with
// create and mod revisions and leases, transactions with the compares and requests the
// elector sends, leases, and "from now" watches of ranges, each in revision order. A test can hold any request to answer
// (or fail) it later. Not part of the package's output.
import type {
  ICompare,
  IKeyValue,
  ILeaseGrantResponse,
  ILeaseRevokeResponse,
  ILeaseTimeToLiveResponse,
  IRangeRequest,
  IRequestOp,
  IResponseOp,
  ITxnRequest,
  ITxnResponse,
} from "etcd3";
import type { CampaignClient } from "./campaign-client.js";
import type { KeyWatchListener } from "./key-watch.js";
import type { KeyRange } from "./keys.js";
import type { LeaseListener } from "./lease-keeper.js";
import type { CreatedRangeWatch } from "./line-watch.js";

interface RangeWatcher {
  readonly from: string;
  readonly to: string;
  readonly listener: KeyWatchListener;
}

interface Entry {
  value: Buffer;
  create: bigint;
  mod: bigint;
  lease: string;
}

/** A request that a test holds: it settles when the test says so. */
export interface HeldRequest {
  readonly method: string;
  /** Lets etcd apply it now and answer. */
  answer(): void;
  /** Lets etcd apply it now, and loses the answer. */
  applyAndFail(error: Error): void;
  /** Fails it without applying it. */
  fail(error: Error): void;
}

const header = (revision: bigint) => ({
  cluster_id: "1",
  member_id: "1",
  revision: revision.toString(),
  raft_term: "1",
});

export class FakeEtcd implements CampaignClient {
  revision = 1n;
  readonly entries = new Map<string, Entry>();
  readonly leases = new Map<string, number>();
  readonly sent: { method: string; request: unknown }[] = [];
  /** Methods whose next calls are held until the test settles them. */
  readonly holding = new Set<string>();
  readonly held: HeldRequest[] = [];
  readonly #watchers = new Set<RangeWatcher>();
  /** How many range watches were created. */
  watchesCreated = 0;
  #nextLease = 0x1000;

  readonly kv = {
    txn: (request: ITxnRequest) => this.#call("txn", request, () => this.#txn(request)),
  };

  readonly leaseClient = {
    leaseGrant: (request: { TTL?: string | number }) =>
      this.#call("leaseGrant", request, (): ILeaseGrantResponse => {
        const id = String(this.#nextLease++);
        const ttl = Number(request.TTL);
        this.leases.set(id, ttl);
        return { header: header(this.revision), ID: id, TTL: String(ttl), error: "" };
      }),
    leaseRevoke: (request: { ID?: string | number }) =>
      this.#call("leaseRevoke", request, (): ILeaseRevokeResponse => {
        this.revoke(String(request.ID));
        return { header: header(this.revision) };
      }),
    leaseTimeToLive: (request: { ID?: string | number }) =>
      this.#call(
        "leaseTimeToLive",
        request,
        (): ILeaseTimeToLiveResponse => ({
          header: header(this.revision),
          ID: String(request.ID),
          TTL: String(this.leases.get(String(request.ID)) ?? -1),
          grantedTTL: "0",
          keys: [],
        }),
      ),
  };

  async watchRange(
    range: KeyRange,
    listener: KeyWatchListener,
    signal: AbortSignal,
  ): Promise<CreatedRangeWatch> {
    signal.throwIfAborted();
    const watcher = { from: range.key.toString(), to: range.rangeEnd.toString(), listener };
    this.#watchers.add(watcher);
    this.watchesCreated++;
    return { watch: { close: () => this.#watchers.delete(watcher) }, revision: this.revision };
  }

  /** How many range watches are open. */
  get watches(): number {
    return this.#watchers.size;
  }

  /** Breaks every watch, as a lost stream does. */
  interruptWatches(error = new Error("the watch stream broke")): void {
    const watchers = [...this.#watchers];
    this.#watchers.clear();
    for (const watcher of watchers) watcher.listener.interrupted(error);
  }

  /**
   * Holds every watch event from now on, as a slow stream does, until {@link deliver}: the
   * store moves on meanwhile.
   */
  holdEvents(): void {
    this.#heldEvents ??= [];
  }

  /** Delivers the held events, in order, and stops holding. */
  deliver(): void {
    const events = this.#heldEvents ?? [];
    this.#heldEvents = undefined;
    for (const event of events) event();
  }

  #heldEvents: (() => void)[] | undefined;

  /** Puts `key` as another client would; `lease` keeps the key's lease if given. */
  put(key: string, value: string, lease = "0"): void {
    this.revision++;
    const entry = this.entries.get(key);
    const next = {
      value: Buffer.from(value),
      create: entry?.create ?? this.revision,
      mod: this.revision,
      lease,
    };
    this.entries.set(key, next);
    this.#notify("put", key, next);
    this.#settle();
  }

  /** Deletes `keys` in one revision, as another client's transaction would. */
  delete(...keys: string[]): void {
    const present = keys.filter((key) => this.entries.has(key));
    if (present.length === 0) return;
    this.revision++;
    for (const key of present) {
      const entry = this.entries.get(key) as Entry;
      this.entries.delete(key);
      this.#notify("delete", key, entry);
    }
    this.#settle();
  }

  /** Revokes `id`: its keys go in one revision. */
  revoke(id: string): void {
    if (!this.leases.delete(id)) return;
    const keys = [...this.entries].filter(([, entry]) => entry.lease === id);
    if (keys.length === 0) return;
    this.revision++;
    for (const [key, entry] of keys) {
      this.entries.delete(key);
      this.#notify("delete", key, entry);
    }
    this.#settle();
  }

  /** The keys in `[from, to)`, in key order. */
  keys(from = "", to = "\uffff"): string[] {
    return [...this.entries.keys()].filter((key) => key >= from && key < to).sort();
  }

  #call<T>(method: string, request: unknown, apply: () => T): Promise<T> {
    this.sent.push({ method, request });
    if (!this.holding.has(method)) {
      try {
        return Promise.resolve(apply());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise<T>((resolve, reject) => {
      this.held.push({
        method,
        answer: () => resolve(apply()),
        applyAndFail: (error) => {
          apply();
          reject(error);
        },
        fail: (error) => reject(error),
      });
    });
  }

  #txn(request: ITxnRequest): ITxnResponse {
    const succeeded = (request.compare ?? []).every((compare) => this.#compare(compare));
    const ops = (succeeded ? request.success : request.failure) ?? [];
    const writes = ops.some((op) => op.request_put !== undefined);
    if (writes) this.revision++;
    const responses = ops.map((op) => this.#op(op));
    if (writes) this.#settle();
    return { header: header(this.revision), succeeded, responses };
  }

  #compare(compare: ICompare): boolean {
    const entry = this.entries.get(String(compare.key));
    switch (compare.target) {
      case "Create":
        return String(entry?.create ?? 0n) === String(compare.create_revision);
      case "Mod":
        return String(entry?.mod ?? 0n) === String(compare.mod_revision);
      case "Lease":
        return (entry?.lease ?? "0") === String(compare.lease);
      default:
        throw new Error(`the fake does not compare ${compare.target}`);
    }
  }

  #op(op: IRequestOp): IResponseOp {
    const put = op.request_put;
    if (put !== undefined) {
      const key = String(put.key);
      const entry = this.entries.get(key);
      const next = {
        value: Buffer.from(put.value ?? ""),
        create: entry?.create ?? this.revision,
        mod: this.revision,
        lease: String(put.lease ?? "0"),
      };
      this.entries.set(key, next);
      this.#notify("put", key, next);
      return responseOp({ response_put: { header: header(this.revision) } });
    }
    const range = op.request_range;
    if (range !== undefined) return responseOp({ response_range: this.#range(range) });
    throw new Error("the fake answers puts and ranges only");
  }

  #range(range: IRangeRequest) {
    const from = String(range.key);
    const to = range.range_end === undefined ? undefined : String(range.range_end);
    const inRange = [...this.entries].filter(([key]) =>
      to === undefined ? key === from : key >= from && key < to,
    );
    // As etcd counts: every key of the range, before the create-revision filters and the limit.
    const count = inRange.length;
    let kvs = inRange
      .filter(
        ([, entry]) =>
          range.max_create_revision === undefined ||
          entry.create <= BigInt(range.max_create_revision),
      )
      .map(([key, entry]) => kvOf(key, entry));
    if (range.sort_target === "Create") {
      kvs.sort((a, b) => Number(BigInt(a.create_revision) - BigInt(b.create_revision)));
      if (range.sort_order === "Descend") kvs.reverse();
    }
    if (range.limit !== undefined && Number(range.limit) > 0) {
      kvs = kvs.slice(0, Number(range.limit));
    }
    return { header: header(this.revision), kvs, more: false, count: String(count) };
  }

  #notify(type: "put" | "delete", key: string, entry: Entry): void {
    const kv = kvOf(key, { ...entry, mod: this.revision });
    for (const watcher of [...this.#watchers]) {
      if (key < watcher.from || key >= watcher.to) continue;
      this.#emit(() => {
        if (this.#watchers.has(watcher)) watcher.listener.changed(type, kv);
      });
    }
  }

  /** Ends one revision's answer on every watch. */
  #settle(): void {
    for (const watcher of [...this.#watchers]) {
      this.#emit(() => {
        if (this.#watchers.has(watcher)) watcher.listener.settled?.();
      });
    }
  }

  #emit(event: () => void): void {
    if (this.#heldEvents === undefined) event();
    else this.#heldEvents.push(event);
  }
}

/** The elector reads only the part of a response it asked for; etcd3 types them all. */
function responseOp(op: Partial<Record<keyof IResponseOp, unknown>>): IResponseOp {
  return op as IResponseOp;
}

function kvOf(key: string, entry: Entry): IKeyValue {
  return {
    key: Buffer.from(key),
    value: entry.value,
    create_revision: entry.create.toString(),
    mod_revision: entry.mod.toString(),
    version: "1",
    lease: entry.lease,
  };
}

/** A lease keeper that keeps nothing, recording what it is asked. */
export class FakeKeeper {
  readonly kept = new Map<string, LeaseListener>();
  keep(leaseId: string, _ttlSeconds: number, listener: LeaseListener): () => void {
    this.kept.set(leaseId, listener);
    return () => this.kept.delete(leaseId);
  }
}
