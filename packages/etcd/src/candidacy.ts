import { isElectorError } from "@elector/core";
import {
  type CampaignRequest,
  delay,
  type ElectedTerm,
  type TermControl,
} from "@elector/core/backend";
import type { CampaignSettings } from "./campaign-client.js";
import { CampaignLease } from "./campaign-lease.js";
import { CandidateKey, type Position } from "./candidate-key.js";
import type { DeleteLog, Line } from "./line-watch.js";
import { requestError } from "./retry.js";

/**
 * One campaign and, once won, its term. It follows etcd's Go `concurrency.Election`, with
 * these differences:
 *
 * - each campaign has a lease of its own ({@link CampaignLease}), granted first and revoked on
 *   every way out, so that the candidate and id keys always leave together;
 * - the own key and the predecessor are followed on the election's one ordered watch (a
 *   {@link Line}, shared by the electors of the client), registered before each read, so that
 *   every change after the read comes in revision order on one etcd watcher;
 * - when the predecessor was also the head of the line at the read (and the server keeps the
 *   order of a watcher's changes), its delete alone proves that we lead: nothing is ahead any more, nothing can join ahead, and any delete or change
 *   of the own key before it would have come first on the same watcher (docs/safety.md,
 *   "One ordered watch per election"). Otherwise, or after any interruption, one transaction
 *   re-checks that the own key still has our create revision and lease (a key on a lease
 *   proves the lease alive at that revision: revoking a lease deletes its keys in the same
 *   revision) and finds no predecessor;
 * - a delete of the own key, or a write by anyone else, ends the campaign or the term.
 *
 * This class runs the campaign and its wait behind the predecessor; the lease and the key do
 * the rest.
 */
export class Candidacy {
  readonly #settings: CampaignSettings;
  readonly #request: CampaignRequest;
  readonly #term: TermControl;
  readonly #lease: CampaignLease;
  readonly #key: CandidateKey;
  /** Stops following the predecessor. */
  #unlistenPredecessor: () => void = () => {};
  /** Wakes the waiting loop: the predecessor went, or the line was interrupted. */
  #wake: (() => void) | undefined;
  #stopped = false;

  constructor(settings: CampaignSettings, request: CampaignRequest) {
    this.#settings = settings;
    this.#request = request;
    this.#term = request.term;
    this.#lease = new CampaignLease(settings, request.term);
    this.#key = new CandidateKey(settings, request.value, request.term, this.#lease, () =>
      this.#wake?.(),
    );
  }

  /** Joins the line, waits to lead, and resolves with the term. */
  async run(): Promise<ElectedTerm> {
    const { signal } = this.#request;
    signal.throwIfAborted();
    // The end of the term, for any reason, stops the watches and the keep-alives; release()
    // then revokes the lease.
    this.#term.signal.addEventListener("abort", () => this.#stop(), { once: true });
    try {
      // The election's watch opens (once per client) while the lease is granted.
      const opening = this.#currentLine(signal);
      opening.catch(() => {});
      await this.#lease.grant(signal);
      this.#key.named(this.#lease.granted);
      let line = await opening;
      if (line.broken) line = await this.#currentLine(signal);
      // Both before the join's read: every change after it comes on this line.
      this.#key.listenOn(line);
      const deletes = line.recordDeletes();
      let position: Position;
      try {
        position = await this.#key.join(signal);
      } catch (error) {
        deletes.close();
        throw error;
      }
      const waited = await this.#waitToLead(position, line, deletes, signal);
      position = waited.position;
      signal.throwIfAborted();
      await this.#key.throwIfLost();
      this.#key.lead();
      this.#settings.logger.debug(
        { token: this.#key.token.toString(), revision: position.revision.toString() },
        waited.trusted
          ? "the predecessor at the head of the line went: leading"
          : "no predecessor left and the own key re-checked",
      );
      return {
        token: this.#key.token,
        proclaim: (value, proclaimSignal) => this.#key.proclaim(value, proclaimSignal),
        release: (releaseSignal) => this.#release(releaseSignal),
      };
    } catch (error) {
      this.#stop();
      await this.#lease
        .revoke(new AbortController().signal, true)
        .catch((revokeError: unknown) =>
          this.#settings.logger.warn(
            { err: revokeError, lease: this.#lease.current?.hex },
            "could not revoke the lease of a failed campaign; it expires within its TTL",
          ),
        );
      if (signal.aborted) throw signal.reason;
      throw isElectorError(error) ? error : requestError("campaign", error);
    }
  }

  /**
   * Waits until no key was created before ours. `line` followed the own key since before the
   * read of `start`, and `deletes` recorded its deletes since then.
   *
   * @returns the position where we lead, and whether it rests on the ordered watch alone
   * (true) or on a re-check (false).
   */
  async #waitToLead(
    start: Position,
    startLine: Line,
    startDeletes: DeleteLog,
    signal: AbortSignal,
  ): Promise<{ position: Position; trusted: boolean }> {
    let position = start;
    let line = startLine;
    let deletes = startDeletes;
    try {
      while (position.predecessor !== undefined) {
        const predecessor = position.predecessor;
        const readRevision = position.revision;
        const woken = this.#nextWake(signal);
        /** The revision of the predecessor's delete after the read, once seen on `line`. */
        let goneAt = deletes.deletedAfter(predecessor, readRevision);
        deletes.close();
        if (goneAt !== undefined) {
          this.#wake?.();
        } else {
          this.#unlistenPredecessor = line.listen(predecessor, {
            changed: (type, kv) => {
              const revision = BigInt(kv.mod_revision);
              if (type === "delete" && revision > readRevision) goneAt ??= revision;
            },
            // After every change of the answer: a change of the own key in the same revision
            // was judged before the wake.
            settled: () => {
              if (goneAt !== undefined) this.#wake?.();
            },
            interrupted: () => this.#wake?.(),
          });
        }
        this.#settings.logger.debug({ predecessor: predecessor.toString() }, "waiting");
        await woken;
        this.#unlistenPredecessor();
        this.#unlistenPredecessor = () => {};
        this.#term.predecessorGone();
        // Operators (and the scale benchmark) count these: one per handoff, the successor's.
        this.#settings.logger.debug({ predecessor: predecessor.toString() }, "woken");
        // A delete or change of the own key came first on the line: the campaign is lost.
        await this.#key.throwIfLost();
        if (
          goneAt !== undefined &&
          position.predecessorIsHead &&
          this.#key.line === line &&
          this.#settings.watchOrderKept()
        ) {
          // The line delivered every change of the own key up to goneAt before this delete,
          // without a break since before the read: the key is ours at goneAt, and nothing
          // is ahead of it.
          return {
            position: { revision: goneAt, predecessor: undefined, predecessorIsHead: false },
            trusted: true,
          };
        }
        line = await this.#currentLine(signal);
        // Both before the re-check's read, as before the join's.
        if (this.#key.line !== line) this.#key.listenOn(line);
        deletes = line.recordDeletes();
        position = await this.#key.recheck(signal);
      }
      return { position, trusted: false };
    } finally {
      deletes.close();
    }
  }

  /**
   * The election's running line; if it cannot be opened (the stream broke), tries again
   * every 200 ms until `signal` aborts.
   */
  async #currentLine(signal: AbortSignal): Promise<Line> {
    for (;;) {
      // A campaign that failed meanwhile (its grant, say) stops trying.
      if (this.#stopped) throw new Error("the campaign ended");
      try {
        const line = await this.#settings.lineWatch.current(signal);
        if (!line.broken) return line;
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        this.#settings.logger.debug({ err: error }, "the election's watch did not start");
      }
      await delay(200, signal);
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

  /** Revokes the lease, which deletes both keys. Succeeds if the lease is already gone. */
  async #release(signal: AbortSignal): Promise<void> {
    this.#stop();
    await this.#key.lossChecked;
    await this.#lease.revoke(signal, false);
  }

  /**
   * Stops following the keys and the keep-alives; the lease itself is left to revoke. The
   * election's watch stays open for the next campaign.
   */
  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#key.stop();
    this.#unlistenPredecessor();
    this.#unlistenPredecessor = () => {};
    // Once the loop turns: a resign's revoke, sent in this turn, reaches etcd before these.
    setImmediate(() => this.#lease.stopKeeping());
  }
}
