import type { LossReason } from "@elector/core";
import { delay, raceSignal, type TermControl } from "@elector/core/backend";
import type { ICompare, IKeyValue, ITxnResponse } from "etcd3";
import type { CampaignSettings } from "./campaign-client.js";
import type { CampaignLease, GrantedLease } from "./campaign-lease.js";
import { callOptions } from "./client.js";
import { candidateOrRefuse } from "./keys.js";
import type { Line } from "./line-watch.js";
import { OwnWrites } from "./own-writes.js";
import { requestError, retrying } from "./retry.js";

/** Where a candidate stands after a read: the store's revision and its predecessor, if any. */
export interface Position {
  readonly revision: bigint;
  /** The key with the greatest create revision below ours; none means we lead. */
  readonly predecessor: Buffer | undefined;
  /**
   * Whether the predecessor was also the first key of the range in line order at the read:
   * then no other key was ahead of us, and none can join ahead (create revisions only grow).
   */
  readonly predecessorIsHead: boolean;
}

/**
 * One campaign's candidate key (and its id key beside it): created on the campaign's lease,
 * re-checked, proclaimed, and followed through the election's {@link Line} while waiting and
 * leading. A delete, or a write by anyone else, ends the campaign or the term.
 *
 * Its own writes are told from others' by an {@link OwnWrites} ledger.
 */
export class CandidateKey {
  readonly #settings: CampaignSettings;
  readonly #value: string;
  readonly #term: TermControl;
  readonly #lease: CampaignLease;
  /** Wakes the campaign's waiting loop: the line that followed the own key was interrupted. */
  readonly #wake: () => void;
  #key: Buffer = Buffer.alloc(0);
  /** The create revision of the own key: the fencing token. */
  #token = 0n;
  readonly #writes = new OwnWrites<IKeyValue>();
  /** The line that follows the own key; undefined once it broke (or before the first). */
  #line: Line | undefined;
  #unlisten: () => void = () => {};
  #leading = false;
  /** A re-verification runs: an interruption meanwhile is seen by its loop. */
  #reverifying = false;
  #stopped = false;
  #gone: Promise<void> | undefined;
  /** The loss of a term's key, once it happened: its lease check is under way or done. */
  #lost: CandidateKeyLostError | undefined;

  constructor(
    settings: CampaignSettings,
    value: string,
    term: TermControl,
    lease: CampaignLease,
    wake: () => void,
  ) {
    this.#settings = settings;
    this.#value = value;
    this.#term = term;
    this.#lease = lease;
    this.#wake = wake;
  }

  /** The create revision of the key: the fencing token. */
  get token(): bigint {
    return this.#token;
  }

  /**
   * The line that has followed the own key, without a break, since {@link listenOn}; undefined
   * if none does.
   */
  get line(): Line | undefined {
    return this.#line?.broken === false ? this.#line : undefined;
  }

  /** Whether the own key was found deleted or changed: the campaign or term is being ended. */
  get lost(): boolean {
    return this.#gone !== undefined;
  }

  /** @throws the loss, once it is settled, if the own key was found deleted or changed. */
  async throwIfLost(): Promise<void> {
    if (this.#gone === undefined) return;
    await this.#gone;
    throw this.#term.signal.reason;
  }

  /** Takes the key's name from the granted lease; call once the lease is granted. */
  named(lease: GrantedLease): void {
    this.#key = this.#settings.keys.candidate(lease.hex);
  }

  /**
   * Creates the candidate and id keys if absent, and reads the predecessor and the number of
   * keys in the range in the same transaction, at the revision of the create. Call {@link listenOn}
   * first, so that every change of the own key after the create is seen.
   */
  async join(signal: AbortSignal): Promise<Position> {
    const lease = this.#lease.granted;
    // The own key's watch may see the create before its answer comes: hold such events.
    this.#writes.begin();
    try {
      return await this.#create(signal, lease);
    } finally {
      this.#wrote();
    }
  }

  async #create(signal: AbortSignal, lease: GrantedLease): Promise<Position> {
    const { campaignClient: client, keys, requestTimeoutMs } = this.#settings;
    const key = this.#key;
    const response = await retrying(
      () =>
        client.kv.txn(
          {
            compare: [{ key, target: "Create", result: "Equal", create_revision: 0 }],
            success: [
              { request_put: { key, value: Buffer.from(this.#value), lease: lease.id } },
              {
                request_put: {
                  key: keys.id(lease.hex),
                  value: Buffer.from(this.#settings.id),
                  lease: lease.id,
                },
              },
              {
                request_range: {
                  key: keys.candidates.key,
                  range_end: keys.candidates.rangeEnd,
                  sort_target: "Create",
                  sort_order: "Descend",
                  limit: 2,
                  keys_only: true,
                },
              },
            ],
            failure: [{ request_range: { key } }],
          },
          callOptions(requestTimeoutMs),
        ),
      { signal, onRetry: (error) => this.#retrying("creating the candidate key", error) },
    );
    const revision = BigInt(response.header.revision);
    if (response.succeeded) {
      this.#token = revision;
      this.#writes.created(revision);
      const line = rangeOf(response, 2);
      this.#settings.logger.debug(
        { key: key.toString(), token: revision.toString() },
        "joined the line",
      );
      const predecessor = candidateOrRefuse(keys, line[1]?.key);
      // The new key is the newest of the range: with two keys in it, the one before ours is
      // also the first. (The count is of the whole range, before the limit.)
      const count = response.responses[2]?.response_range?.count;
      return { revision, predecessor, predecessorIsHead: count === "2" };
    }
    // The key exists: ours if an earlier attempt was applied but its answer was lost.
    const existing = rangeOf(response, 0)[0];
    if (existing === undefined || existing.lease !== lease.id) {
      throw new Error(
        `the candidate key ${key.toString()} exists with lease ${existing?.lease ?? "none"}, not ours`,
      );
    }
    this.#token = BigInt(existing.create_revision);
    this.#writes.adopted(this.#token, BigInt(existing.mod_revision));
    return this.recheck(signal);
  }

  /**
   * One transaction: the own key still has our create revision, lease and last write (so
   * the lease is alive), and the candidate created just before us, if any.
   *
   * @throws the loss, if the own key went or changed.
   */
  async recheck(signal: AbortSignal): Promise<Position> {
    const { campaignClient: client, keys, requestTimeoutMs } = this.#settings;
    const response = await retrying(
      () =>
        client.kv.txn(
          {
            compare: this.#ownKeyCompare(true),
            success: [
              {
                request_range: {
                  key: keys.candidates.key,
                  range_end: keys.candidates.rangeEnd,
                  sort_target: "Create",
                  sort_order: "Descend",
                  max_create_revision: (this.#token - 1n).toString(),
                  limit: 1,
                  keys_only: true,
                },
              },
              headOfLine(keys.candidates),
            ],
            failure: [],
          },
          callOptions(requestTimeoutMs),
        ),
      { signal, onRetry: (error) => this.#retrying("re-checking the line", error) },
    );
    if (!response.succeeded) {
      return this.#keyGone("the candidate key is gone or was changed by someone else");
    }
    return position(
      BigInt(response.header.revision),
      candidateOrRefuse(keys, rangeOf(response, 0)[0]?.key),
      rangeOf(response, 1),
    );
  }

  /** The own key has our create revision and lease, and, unless we are writing it, our value. */
  #ownKeyCompare(withWrite: boolean): ICompare[] {
    const lease = this.#lease.granted;
    const key = this.#key;
    const compare: ICompare[] = [
      { key, target: "Create", result: "Equal", create_revision: this.#token.toString() },
      { key, target: "Lease", result: "Equal", lease: lease.id },
    ];
    if (withWrite && !this.#writes.writing) {
      compare.push({
        key,
        target: "Mod",
        result: "Equal",
        mod_revision: this.#writes.modRevision.toString(),
      });
    }
    return compare;
  }

  /**
   * The campaign is won: from now on a broken line is repaired by a re-check of the key
   * rather than by waking the (finished) waiting loop.
   */
  lead(): void {
    this.#leading = true;
    if (this.line === undefined) this.#reverify();
  }

  /** Changes the key's value if it is still ours. */
  async proclaim(value: string, signal: AbortSignal): Promise<void> {
    // Given up before it began: nothing may be written, not even a value nobody waits for.
    signal.throwIfAborted();
    const { campaignClient: client, requestTimeoutMs } = this.#settings;
    const lease = this.#lease.granted;
    this.#writes.begin();
    let response: ITxnResponse;
    try {
      response = await raceSignal(
        client.kv.txn(
          {
            compare: this.#ownKeyCompare(false),
            success: [
              { request_put: { key: this.#key, value: Buffer.from(value), lease: lease.id } },
            ],
            failure: [],
          },
          callOptions(requestTimeoutMs),
        ),
        signal,
      );
      if (response.succeeded) this.#writes.answered(BigInt(response.header.revision));
    } catch (error) {
      this.#writes.unanswered(value);
      if (signal.aborted) throw signal.reason;
      throw requestError("proclaim", error);
    } finally {
      this.#wrote();
    }
    if (!response.succeeded) {
      await this.#keyGone("proclaim found the candidate key gone or changed by someone else");
    }
  }

  /** Stops following the own key: a late change judges nothing. */
  stop(): void {
    this.#stopped = true;
    this.#line = undefined;
    this.#unlisten();
    this.#unlisten = () => {};
  }

  // --- following the own key ---

  /**
   * Follows the own key on `line` from now on, in place of any line before. Every change of
   * the key after a read sent from now on is told, in revision order with every other change
   * of the election, unless the line breaks: then a waiter is woken (it re-checks), a leader
   * re-verifies its key.
   */
  listenOn(line: Line): void {
    if (this.#stopped) return;
    this.#unlisten();
    this.#line = line;
    this.#unlisten = line.listen(this.#key, {
      changed: (type, kv) => this.#changed(type, kv),
      interrupted: (error) => {
        if (this.#line !== line || this.#stopped) return;
        this.#line = undefined;
        this.#unlisten = () => {};
        this.#settings.logger.debug({ err: error }, "the own key's watch was interrupted");
        if (this.#leading) this.#reverify();
        else this.#wake();
      },
    });
  }

  #changed(type: "put" | "delete", kv: IKeyValue): void {
    if (this.#stopped) return;
    if (type === "delete") {
      this.#keyGone("the candidate key was deleted").catch(() => {});
      return;
    }
    const ours =
      kv.create_revision === this.#token.toString() && kv.lease === this.#lease.current?.id;
    if (ours && this.#writes.isOwn(BigInt(kv.mod_revision), kv.value.toString())) {
      this.#writes.accept(BigInt(kv.mod_revision));
    } else if (this.#writes.writing) {
      this.#writes.hold(kv);
    } else {
      const detail = ours
        ? "the candidate key's value was changed by someone else"
        : "the candidate key was replaced by someone else";
      this.#keyGone(detail).catch(() => {});
    }
  }

  /** An own write (the create or a proclaim) settled: judge the puts seen meanwhile. */
  #wrote(): void {
    for (const kv of this.#writes.end()) this.#changed("put", kv);
  }

  /**
   * The line broke while leading: follow the own key on a new line, then confirm it in one
   * read. Retries until the term ends; the deadline bounds how long that may take.
   */
  #reverify(): void {
    if (this.#reverifying || this.#stopped) return;
    this.#reverifying = true;
    const signal = this.#term.signal;
    const { campaignClient: client, requestTimeoutMs, lineWatch } = this.#settings;
    const run = async () => {
      try {
        await loop();
      } finally {
        this.#reverifying = false;
      }
    };
    const loop = async () => {
      for (;;) {
        let line: Line;
        try {
          line = await lineWatch.current(signal);
        } catch (error) {
          if (signal.aborted) throw error;
          this.#settings.logger.debug({ err: error }, "the election's watch did not start");
          await delay(200, signal);
          continue;
        }
        // Before the read: a change after it is then told on the line.
        this.listenOn(line);
        const response = await retrying(
          () =>
            client.kv.txn(
              {
                compare: this.#ownKeyCompare(false),
                success: [{ request_range: { key: this.#key } }],
                failure: [],
              },
              callOptions(requestTimeoutMs),
            ),
          { signal, onRetry: (error) => this.#retrying("re-checking the own key", error) },
        );
        if (!response.succeeded) {
          await this.#keyGone("the candidate key is gone or was replaced by someone else");
        }
        // Its value is judged here rather than compared in the transaction: a proclaim whose
        // answer was lost with the connection (which also broke the watch) may be the writer.
        const kv = rangeOf(response, 0)[0];
        if (kv !== undefined && !this.#writes.writing) {
          if (this.#writes.isOwn(BigInt(kv.mod_revision), kv.value.toString())) {
            this.#writes.accept(BigInt(kv.mod_revision));
          } else {
            await this.#keyGone("the candidate key's value was changed by someone else");
          }
        }
        if (this.#stopped || (this.#line === line && !line.broken)) return;
        // The line broke meanwhile: follow the key on a new one and read again.
      }
    };
    run().catch((error: unknown) => {
      if (signal.aborted) return;
      // Not transient (permission denied, say): nothing tells us any more what happens to
      // the key. The term cannot go on blind.
      this.#term.lose("connection-lost", "could not watch the leader's key any more", error);
    });
  }

  /**
   * Settles once the check that follows the loss of the key (did the lease go too?) is done.
   * A release waits for it: its own revoke would otherwise answer that check.
   */
  get lossChecked(): Promise<void> {
    return this.#lost?.checked ?? Promise.resolve();
  }

  /**
   * The own key was deleted or changed: ends the campaign or the term, once. A term ends at
   * once with `deleted`, before a successor can be elected (it needs a request after the same
   * event); whether the lease went too follows in the loss's cause, a
   * {@link CandidateKeyLostError}. A campaign, which acts on nothing yet, asks first and fails
   * with `lease-expired` or `deleted`.
   *
   * @throws always: the loss.
   */
  async #keyGone(detail: string): Promise<never> {
    this.#gone ??= this.#leading ? this.#endTerm(detail) : this.#endCampaign(detail);
    await this.#gone;
    // The term's signal: the campaign's own stops following it once the campaign resolved.
    throw this.#term.signal.reason;
  }

  async #endTerm(detail: string): Promise<void> {
    const lease = this.#lease.current;
    const cause = new CandidateKeyLostError(detail, this.#key.toString(), lease?.hex ?? "");
    // Set before the loss: ending the term starts its release at once, which waits for it.
    this.#lost = cause;
    this.#term.lose("deleted", `${detail}; whether its lease went too follows in the cause`, cause);
    const leaseGone = await this.#lease.isGone(new AbortController().signal);
    cause.leaseChecked(leaseGone);
    if (leaseGone) {
      this.#settings.logger.warn(
        { lease: lease?.hex },
        "the lost leader's lease is gone too: expired or revoked on the server (etcd before 3.4.28 and 3.5.10 revokes live leases after a stalled raft leader wakes up, etcd-io/etcd#15247)",
      );
    }
  }

  async #endCampaign(detail: string): Promise<void> {
    const reason: LossReason = (await this.#lease.isGone(this.#term.signal))
      ? "lease-expired"
      : "deleted";
    this.#term.lose(
      reason,
      reason === "lease-expired" ? `${detail}: its lease expired or was revoked` : detail,
    );
  }

  #retrying(what: string, error: unknown): void {
    this.#settings.logger.debug({ err: error }, `${what} failed; retrying`);
  }
}

/** The first key of `range` in line order (lowest create revision), name only. */
function headOfLine(range: { key: Buffer; rangeEnd: Buffer }) {
  return {
    request_range: {
      key: range.key,
      range_end: range.rangeEnd,
      sort_target: "Create" as const,
      sort_order: "Ascend" as const,
      limit: 1,
      keys_only: true,
    },
  };
}

/** A read's position; `head` is the answer of {@link headOfLine} in the same transaction. */
function position(revision: bigint, predecessor: Buffer | undefined, head: IKeyValue[]): Position {
  const first = head[0]?.key;
  return {
    revision,
    predecessor,
    predecessorIsHead: predecessor !== undefined && first?.equals(predecessor) === true,
  };
}

/** The keys a range (the response at `index`) returned, in order. */
export function rangeOf(response: ITxnResponse, index: number): IKeyValue[] {
  return response.responses[index]?.response_range?.kvs ?? [];
}

/**
 * The cause of a term's `deleted` loss on etcd: the leader's candidate key was deleted, or
 * written by someone else. The term ends at the event, before a successor can be elected;
 * whether the key's lease went too (revoked, expired on the server, or revoked by a server with
 * etcd-io/etcd#15247) is asked of etcd afterwards and recorded in {@link leaseGone}.
 */
export class CandidateKeyLostError extends Error {
  override readonly name = "CandidateKeyLostError";
  readonly code = "candidate-key-lost";
  /** The candidate key. */
  readonly key: string;
  /** Its lease, in lowercase hex. */
  readonly lease: string;
  /**
   * Whether the lease was gone too: `undefined` until etcd answered, `false` if it is alive or
   * did not answer within a second.
   */
  leaseGone: boolean | undefined = undefined;
  /** Resolves once {@link leaseGone} is known. */
  readonly checked: Promise<void>;
  #checked: () => void = () => {};

  constructor(detail: string, key: string, lease: string) {
    super(`${detail} (key ${key}, lease ${lease})`);
    this.key = key;
    this.lease = lease;
    this.checked = new Promise<void>((resolve) => {
      this.#checked = resolve;
    });
  }

  /** @internal Records etcd's answer about the lease. */
  leaseChecked(gone: boolean): void {
    this.leaseGone = gone;
    this.#checked();
  }
}
