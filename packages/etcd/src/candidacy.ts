import { isElectorError, type LossReason } from "@elector/core";
import {
  type CampaignRequest,
  delay,
  type ElectedTerm,
  now,
  raceSignal,
  type TermControl,
} from "@elector/core/backend";
import { EtcdLeaseInvalidError, type ICompare, type IKeyValue, type ITxnResponse } from "etcd3";
import { backendError, callOptions } from "./client.js";
import { KeyWatch, type KeyWatchListener, type StartedKeyWatch } from "./key-watch.js";
import { candidateOrRefuse, leaseHex } from "./keys.js";
import { retrying } from "./retry.js";
import type { EtcdSettings } from "./settings.js";

/** Where a candidate stands after a read: the store's revision and its predecessor, if any. */
interface Position {
  readonly revision: bigint;
  /** The key with the greatest create revision below ours; none means we lead. */
  readonly predecessor: Buffer | undefined;
}

/** A watch that begins out of step with its read is replaced at most this often per wait. */
const outOfStepRetries = 1;

/**
 * One campaign and, once won, its term: the lease, the candidate key, the watches on the
 * predecessor and on the own key. It follows etcd's Go `concurrency.Election`, with these
 * differences:
 *
 * - each campaign has a lease of its own, granted first and revoked on every way out, so
 *   that the candidate and id keys always leave together;
 * - every watch starts at its read's revision + 1 (Go starts at the read's revision, which
 *   etcd serves from its 100 ms catch-up loop);
 * - before reporting "elected", one transaction re-checks that the own key still has our
 *   create revision and lease (a key on a lease proves the lease alive at that revision:
 *   revoking a lease deletes its keys in the same revision) and finds no predecessor;
 * - the own key is watched while waiting and leading: a delete or a write by anyone else ends
 *   the campaign or the term.
 */
export class Candidacy {
  readonly #settings: EtcdSettings;
  readonly #request: CampaignRequest;
  readonly #term: TermControl;
  #lease: { readonly id: string; readonly hex: string } | undefined;
  #key: Buffer = Buffer.alloc(0);
  /** The create revision of the own key: the fencing token. */
  #token = 0n;
  /** The mod revision of the own key as we last wrote or saw it. */
  #modRevision = 0n;
  #stopKeeping: () => void = () => {};
  #ownWatch: KeyWatch | undefined;
  #ownWatchStarting = false;
  #predecessorWatch: KeyWatch | undefined;
  /** Wakes the waiting loop: the predecessor went, or a watch was interrupted. */
  #wake: (() => void) | undefined;
  #leading = false;
  #stopped = false;
  #gone: Promise<void> | undefined;
  /** Mod revisions of our own writes (the create, the proclaims), and how many are under way. */
  readonly #ownWrites = new Set<string>();
  #writing = 0;
  /** Puts on the own key seen while an own write was under way: ours or not, we learn after. */
  #unexplained: IKeyValue[] = [];
  /**
   * Values of proclaims that got no answer (a timeout, a broken connection, an abort): etcd
   * may have applied them, and their puts, when seen, have no known revision. Each maps to the
   * revision of the next own write that was answered, if any: sent later, it was applied
   * later, so a put of that value at or after it is not the lost proclaim.
   */
  readonly #unanswered = new Map<string, bigint | undefined>();

  constructor(settings: EtcdSettings, request: CampaignRequest) {
    this.#settings = settings;
    this.#request = request;
    this.#term = request.term;
  }

  /** Joins the line, waits to lead, re-checks, and resolves with the term. */
  async run(): Promise<ElectedTerm> {
    const { signal } = this.#request;
    signal.throwIfAborted();
    // The end of the term, for any reason, stops the watches and the keep-alives; release()
    // then revokes the lease.
    this.#term.signal.addEventListener("abort", () => this.#stop(), { once: true });
    try {
      const granted = await this.#grant(signal);
      // The own key's watch starts now, from before the key exists, so that its stream and
      // its creation are out of the way by the time the predecessor's watch is needed.
      this.#watchOwnKeyInBackground(granted, signal);
      let position = await this.#join(signal);
      position = await this.#waitToLead(position, signal);
      signal.throwIfAborted();
      this.#leading = true;
      if (this.#ownWatch === undefined && !this.#ownWatchStarting) this.#reverify();
      this.#settings.logger.debug(
        { token: this.#token.toString(), revision: position.revision.toString() },
        "no predecessor left and the own key re-checked",
      );
      return {
        token: this.#token,
        proclaim: (value, proclaimSignal) => this.#proclaim(value, proclaimSignal),
        release: (releaseSignal) => this.#release(releaseSignal),
      };
    } catch (error) {
      this.#stop();
      await this.#revoke(new AbortController().signal, true).catch((revokeError: unknown) =>
        this.#settings.logger.warn(
          { err: revokeError, lease: this.#lease?.hex },
          "could not revoke the lease of a failed campaign; it expires within its TTL",
        ),
      );
      if (signal.aborted) throw signal.reason;
      throw isElectorError(error) ? error : backendError("campaign", error);
    }
  }

  // --- joining ---

  /** @returns the revision of the grant's answer. */
  async #grant(signal: AbortSignal): Promise<bigint> {
    const { client, ttlSeconds, requestTimeoutMs } = this.#settings;
    const { granted, sentAt } = await retrying(
      async () => {
        const sentAt = now();
        const request = client.leaseClient.leaseGrant(
          { TTL: ttlSeconds },
          callOptions(requestTimeoutMs),
        );
        // A grant that succeeds after the campaign was given up has no key yet; revoke it
        // rather than let it live out its TTL.
        request.then(
          (late) => {
            if (signal.aborted) this.#revokeId(late.ID).catch(() => {});
          },
          () => {},
        );
        return { granted: await request, sentAt };
      },
      { signal, onRetry: (error) => this.#retrying("granting a lease", error) },
    );
    const lease = { id: granted.ID, hex: leaseHex(granted.ID) };
    this.#lease = lease;
    this.#key = this.#settings.keys.candidate(lease.hex);
    const ttl = Number(granted.TTL);
    this.#extend(sentAt, ttl);
    this.#stopKeeping = this.#settings.keeper.keep(lease.id, ttl, {
      renewed: (renewalSentAt, renewedTtl) => this.#extend(renewalSentAt, renewedTtl),
      expired: () =>
        this.#term.lose(
          "lease-expired",
          `etcd answered a keep-alive of lease ${lease.hex} with TTL 0: the lease is gone`,
        ),
    });
    this.#settings.logger.debug({ lease: lease.hex, ttlSeconds: ttl }, "lease granted");
    return BigInt(granted.header.revision);
  }

  /** The local deadline: the send time of an acknowledged request, plus the TTL, minus the margin. */
  #extend(sentAt: number, ttlSeconds: number): void {
    this.#term.extendDeadline(sentAt + ttlSeconds * 1000 - this.#settings.safetyMarginMs);
  }

  /**
   * Creates the candidate and id keys if absent, and reads the predecessor in the same
   * transaction, at the revision of the create.
   */
  async #join(signal: AbortSignal): Promise<Position> {
    const lease = this.#leaseOrThrow();
    const key = this.#key;
    // The own key's watch may see the create before its answer comes: hold such events.
    this.#writing++;
    try {
      return await this.#create(signal, lease, key);
    } finally {
      this.#wrote();
    }
  }

  async #create(
    signal: AbortSignal,
    lease: { readonly id: string; readonly hex: string },
    key: Buffer,
  ): Promise<Position> {
    const { client, keys, requestTimeoutMs } = this.#settings;
    const response = await retrying(
      () =>
        client.kv.txn(
          {
            compare: [{ key, target: "Create", result: "Equal", create_revision: 0 }],
            success: [
              {
                request_put: {
                  key,
                  value: Buffer.from(this.#request.value),
                  lease: lease.id,
                },
              },
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
      this.#modRevision = revision;
      this.#ownWrites.add(revision.toString());
      const line = rangeOf(response, 2);
      this.#settings.logger.debug(
        { key: key.toString(), token: revision.toString() },
        "joined the line",
      );
      return { revision, predecessor: candidateOrRefuse(keys, line[1]?.key) };
    }
    // The key exists: ours if an earlier attempt was applied but its answer was lost.
    const existing = rangeOf(response, 0)[0];
    if (existing === undefined || existing.lease !== lease.id) {
      throw new Error(
        `the candidate key ${key.toString()} exists with lease ${existing?.lease ?? "none"}, not ours`,
      );
    }
    this.#token = BigInt(existing.create_revision);
    this.#modRevision = BigInt(existing.mod_revision);
    this.#ownWrites.add(existing.create_revision).add(existing.mod_revision);
    return this.#recheck(signal);
  }

  // --- waiting ---

  /** Waits until no key was created before ours, re-checking after each wake. */
  async #waitToLead(start: Position, signal: AbortSignal): Promise<Position> {
    let position = start;
    let outOfStep = 0;
    while (position.predecessor !== undefined) {
      const woken = this.#nextWake(signal);
      const predecessor = position.predecessor;
      const starting = this.#startWatch(
        predecessor,
        position.revision,
        {
          changed: (type) => {
            if (type === "delete") this.#wake?.();
          },
          interrupted: () => this.#wake?.(),
        },
        signal,
      );
      // The own key's watch starts behind it and is not waited for: the re-check after the
      // wake covers the own key until it is up.
      if (this.#ownWatch === undefined && !this.#ownWatchStarting) {
        this.#watchOwnKeyInBackground(position.revision, signal);
      }
      const started = await starting;
      // stop() may have run between the watch starting and this line: it missed this watch.
      if (this.#stopped) started?.watch.close();
      this.#predecessorWatch = started?.watch;
      const inStep = started?.inStep;
      if (inStep === undefined) {
        // A watch could not start (the stream broke meanwhile): read again after a pause.
        await delay(200, signal);
      } else if (inStep || outOfStep >= outOfStepRetries) {
        this.#settings.logger.debug({ predecessor: predecessor.toString() }, "waiting");
        await woken;
        // Operators (and the scale benchmark) count these: one per handoff, the successor's.
        this.#settings.logger.debug({ predecessor: predecessor.toString() }, "woken");
      } else {
        // The store moved on between the read and the watch: etcd would replay the gap from
        // its 100 ms catch-up loop. Reading again is faster.
        outOfStep++;
      }
      this.#wake?.();
      // The re-check goes out first: cancelling the old watch can wait a moment.
      const recheck = this.#recheck(signal);
      started?.watch.close();
      this.#predecessorWatch = undefined;
      position = await recheck;
    }
    return position;
  }

  /**
   * Starts a watch from `readRevision + 1`.
   *
   * @returns undefined if it could not start for a reason other than `signal`.
   */
  async #startWatch(
    target: Buffer,
    readRevision: bigint,
    listener: KeyWatchListener,
    signal: AbortSignal,
  ): Promise<StartedKeyWatch | undefined> {
    try {
      return await KeyWatch.start(this.#settings.client, target, readRevision, listener, signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      this.#settings.logger.debug({ err: error, key: target.toString() }, "a watch did not start");
      return undefined;
    }
  }

  #nextWake(signal: AbortSignal): Promise<void> {
    const woken = new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#wake = undefined;
        reject(signal.reason);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.#wake = () => {
        this.#wake = undefined;
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
    });
    // Not every turn of the loop awaits it; the loop sees the abort elsewhere.
    woken.catch(() => {});
    return woken;
  }

  /**
   * One transaction: the own key still has our create revision, lease and last write (so
   * the lease is alive), and the candidate created just before us, if any.
   *
   * @throws the loss, if the own key went or changed.
   */
  async #recheck(signal: AbortSignal): Promise<Position> {
    const { client, keys, requestTimeoutMs } = this.#settings;
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
    return {
      revision: BigInt(response.header.revision),
      predecessor: candidateOrRefuse(keys, rangeOf(response, 0)[0]?.key),
    };
  }

  /** The own key has our create revision and lease, and, unless we are writing it, our value. */
  #ownKeyCompare(withWrite: boolean): ICompare[] {
    const lease = this.#leaseOrThrow();
    const key = this.#key;
    const compare: ICompare[] = [
      { key, target: "Create", result: "Equal", create_revision: this.#token.toString() },
      { key, target: "Lease", result: "Equal", lease: lease.id },
    ];
    if (withWrite && this.#writing === 0) {
      compare.push({
        key,
        target: "Mod",
        result: "Equal",
        mod_revision: this.#modRevision.toString(),
      });
    }
    return compare;
  }

  // --- the own key ---

  /**
   * Watches the own key from `readRevision + 1`.
   *
   * @returns whether the watch began in step with the read, or undefined if it did not start.
   */
  async #watchOwnKey(readRevision: bigint, signal: AbortSignal): Promise<boolean | undefined> {
    const started = await this.#startWatch(
      this.#key,
      readRevision,
      {
        changed: (type, kv) => this.#ownKeyChanged(type, kv),
        interrupted: (error) => {
          if (started === undefined || this.#ownWatch !== started.watch) return;
          this.#ownWatch = undefined;
          this.#settings.logger.debug({ err: error }, "the own key's watch was interrupted");
          if (this.#leading) this.#reverify();
          else this.#wake?.();
        },
      },
      signal,
    );
    if (started === undefined) return undefined;
    if (this.#stopped) started.watch.close();
    else this.#ownWatch = started.watch;
    return started.inStep;
  }

  #watchOwnKeyInBackground(readRevision: bigint, signal: AbortSignal): void {
    this.#ownWatchStarting = true;
    this.#watchOwnKey(readRevision, signal).then(
      (inStep) => {
        this.#ownWatchStarting = false;
        if (inStep !== undefined || this.#stopped) return;
        // It did not start: a leader confirms its key and tries again; a waiter re-checks.
        if (this.#leading) this.#reverify();
        else this.#wake?.();
      },
      () => {
        this.#ownWatchStarting = false;
      },
    );
  }

  #ownKeyChanged(type: "put" | "delete", kv: IKeyValue): void {
    if (this.#stopped) return;
    if (type === "delete") {
      this.#keyGone("the candidate key was deleted").catch(() => {});
      return;
    }
    const ours = kv.create_revision === this.#token.toString() && kv.lease === this.#lease?.id;
    if (ours && this.#isOwnWrite(kv)) {
      this.#acceptOwnWrite(BigInt(kv.mod_revision));
    } else if (this.#writing > 0) {
      this.#unexplained.push(kv);
    } else {
      const detail = ours
        ? "the candidate key's value was changed by someone else"
        : "the candidate key was replaced by someone else";
      this.#keyGone(detail).catch(() => {});
    }
  }

  /**
   * Whether a put on the own key (with our create revision and lease) is one of our writes: one
   * answered at its revision, or a proclaim that got no answer, applied before any later
   * answered write.
   */
  #isOwnWrite(kv: IKeyValue): boolean {
    if (this.#ownWrites.has(kv.mod_revision)) return true;
    const value = kv.value.toString();
    if (!this.#unanswered.has(value)) return false;
    const before = this.#unanswered.get(value);
    return before === undefined || BigInt(kv.mod_revision) < before;
  }

  /**
   * The own key is at `revision`, written by us. Watch events come in revision order, so no
   * earlier put can come any more: lost proclaims bounded by this revision are forgotten.
   */
  #acceptOwnWrite(revision: bigint): void {
    this.#ownWrites.add(revision.toString());
    if (revision > this.#modRevision) this.#modRevision = revision;
    for (const [value, before] of this.#unanswered) {
      if (before !== undefined && before <= revision) this.#unanswered.delete(value);
    }
  }

  /** An own write (the create or a proclaim) has its answer: judge the puts seen meanwhile. */
  #wrote(): void {
    this.#writing--;
    if (this.#writing > 0) return;
    for (const kv of this.#unexplained.splice(0)) this.#ownKeyChanged("put", kv);
  }

  /**
   * The own watch broke while leading: confirm the own key in one read, and watch it again
   * from that read. Retries until the term ends; the deadline bounds how long that may take.
   */
  #reverify(): void {
    const signal = this.#term.signal;
    const { client, requestTimeoutMs } = this.#settings;
    const run = async () => {
      for (;;) {
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
        if (kv !== undefined && this.#writing === 0) {
          if (this.#isOwnWrite(kv)) {
            this.#acceptOwnWrite(BigInt(kv.mod_revision));
          } else {
            await this.#keyGone("the candidate key's value was changed by someone else");
          }
        }
        if ((await this.#watchOwnKey(BigInt(response.header.revision), signal)) !== undefined) {
          return;
        }
        await delay(200, signal);
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
   * The own key was deleted or changed: ends the campaign or the term with the reason, once.
   * A leader's `isActive()` turns false at once; the reason (did the lease go, or only the
   * key?) takes one more request.
   *
   * @throws always: the loss.
   */
  async #keyGone(detail: string): Promise<never> {
    this.#gone ??= (async () => {
      if (this.#leading) this.#term.suspend(detail);
      const reason = await this.#whyGone();
      this.#term.lose(
        reason,
        reason === "lease-expired" ? `${detail}: its lease expired or was revoked` : detail,
      );
    })();
    await this.#gone;
    // The term's signal: the campaign's own stops following it once the campaign resolved.
    throw this.#term.signal.reason;
  }

  async #whyGone(): Promise<LossReason> {
    const lease = this.#lease;
    if (lease === undefined) return "deleted";
    try {
      const response = await raceSignal(
        this.#settings.client.leaseClient.leaseTimeToLive(
          { ID: lease.id },
          callOptions(Math.min(this.#settings.requestTimeoutMs, 1000)),
        ),
        this.#term.signal,
      );
      return Number(response.TTL) <= 0 ? "lease-expired" : "deleted";
    } catch {
      return "deleted";
    }
  }

  // --- the term ---

  async #proclaim(value: string, signal: AbortSignal): Promise<void> {
    const { client, requestTimeoutMs } = this.#settings;
    const lease = this.#leaseOrThrow();
    this.#writing++;
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
      if (response.succeeded) {
        this.#ownWrites.add(response.header.revision);
        const revision = BigInt(response.header.revision);
        if (revision > this.#modRevision) this.#modRevision = revision;
        for (const [lost, before] of this.#unanswered) {
          if (before === undefined) this.#unanswered.set(lost, revision);
        }
      }
    } catch (error) {
      this.#unanswered.set(value, undefined);
      if (signal.aborted) throw signal.reason;
      throw backendError("proclaim", error);
    } finally {
      this.#wrote();
    }
    if (!response.succeeded) {
      await this.#keyGone("proclaim found the candidate key gone or changed by someone else");
    }
  }

  /** Revokes the lease, which deletes both keys. Succeeds if the lease is already gone. */
  async #release(signal: AbortSignal): Promise<void> {
    this.#stop();
    await this.#revoke(signal, false);
  }

  /** Stops the watches and the keep-alives; the lease itself is left to revoke. */
  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const stopKeeping = this.#stopKeeping;
    const watches = [this.#ownWatch, this.#predecessorWatch];
    this.#ownWatch = undefined;
    this.#predecessorWatch = undefined;
    // Once the loop turns: a resign's revoke, sent in this turn, reaches etcd before these.
    setImmediate(() => {
      stopKeeping();
      for (const watch of watches) watch?.close();
    });
  }

  async #revoke(signal: AbortSignal, retry: boolean): Promise<void> {
    const lease = this.#lease;
    if (lease === undefined) return;
    const attempt = () => this.#revokeId(lease.id);
    try {
      if (retry) {
        await retrying(attempt, { signal, maxRetryTimeMs: this.#settings.requestTimeoutMs });
      } else {
        await raceSignal(attempt(), signal);
      }
      this.#settings.logger.debug({ lease: lease.hex }, "lease revoked");
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw backendError(`revoking lease ${lease.hex}`, error);
    }
  }

  async #revokeId(id: string): Promise<void> {
    try {
      await this.#settings.client.leaseClient.leaseRevoke(
        { ID: id },
        callOptions(this.#settings.requestTimeoutMs),
      );
    } catch (error) {
      if (!(error instanceof EtcdLeaseInvalidError)) throw error;
    }
  }

  #leaseOrThrow(): { readonly id: string; readonly hex: string } {
    if (this.#lease === undefined) throw new Error("no lease was granted");
    return this.#lease;
  }

  #retrying(what: string, error: unknown): void {
    this.#settings.logger.debug({ err: error }, `${what} failed; retrying`);
  }
}

/** The keys a range (the response at `index`) returned, in order. */
function rangeOf(response: ITxnResponse, index: number): IKeyValue[] {
  return response.responses[index]?.response_range?.kvs ?? [];
}
