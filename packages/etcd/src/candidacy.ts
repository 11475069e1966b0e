import { isElectorError } from "@elector/core";
import {
  type CampaignRequest,
  delay,
  type ElectedTerm,
  type TermControl,
} from "@elector/core/backend";
import type { CampaignSettings, StartedWatch } from "./campaign-client.js";
import { CampaignLease } from "./campaign-lease.js";
import { CandidateKey, type Position } from "./candidate-key.js";
import { requestError } from "./retry.js";

/** A watch that begins out of step with its read is replaced at most this often per wait. */
const outOfStepRetries = 1;

/**
 * One campaign and, once won, its term. It follows etcd's Go `concurrency.Election`, with
 * these differences:
 *
 * - each campaign has a lease of its own ({@link CampaignLease}), granted first and revoked on
 *   every way out, so that the candidate and id keys always leave together;
 * - every watch starts at its read's revision + 1 (Go starts at the read's revision, which
 *   etcd serves from its 100 ms catch-up loop);
 * - before reporting "elected", one transaction re-checks that the own key still has our
 *   create revision and lease (a key on a lease proves the lease alive at that revision:
 *   revoking a lease deletes its keys in the same revision) and finds no predecessor;
 * - the own key ({@link CandidateKey}) is watched while waiting and leading: a delete or a
 *   write by anyone else ends the campaign or the term.
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
  #predecessorWatch: StartedWatch["watch"] | undefined;
  /** Wakes the waiting loop: the predecessor went, or a watch was interrupted. */
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

  /** Joins the line, waits to lead, re-checks, and resolves with the term. */
  async run(): Promise<ElectedTerm> {
    const { signal } = this.#request;
    signal.throwIfAborted();
    // The end of the term, for any reason, stops the watches and the keep-alives; release()
    // then revokes the lease.
    this.#term.signal.addEventListener("abort", () => this.#stop(), { once: true });
    try {
      const granted = await this.#lease.grant(signal);
      this.#key.named(this.#lease.granted);
      // The own key's watch starts now, from before the key exists, so that its stream and
      // its creation are out of the way by the time the predecessor's watch is needed.
      this.#key.watchInBackground(granted, signal);
      let position = await this.#key.join(signal);
      position = await this.#waitToLead(position, signal);
      signal.throwIfAborted();
      this.#key.lead();
      this.#settings.logger.debug(
        { token: this.#key.token.toString(), revision: position.revision.toString() },
        "no predecessor left and the own key re-checked",
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

  /** Waits until no key was created before ours, re-checking after each wake. */
  async #waitToLead(start: Position, signal: AbortSignal): Promise<Position> {
    let position = start;
    let outOfStep = 0;
    while (position.predecessor !== undefined) {
      const woken = this.#nextWake(signal);
      const predecessor = position.predecessor;
      const starting = this.#watchPredecessor(predecessor, position.revision, signal);
      // The own key's watch starts behind it and is not waited for: the re-check after the
      // wake covers the own key until it is up.
      if (!this.#key.watched) this.#key.watchInBackground(position.revision, signal);
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
        this.#term.predecessorGone();
        // Operators (and the scale benchmark) count these: one per handoff, the successor's.
        this.#settings.logger.debug({ predecessor: predecessor.toString() }, "woken");
      } else {
        // The store moved on between the read and the watch: etcd would replay the gap from
        // its 100 ms catch-up loop. Reading again is faster.
        outOfStep++;
      }
      this.#wake?.();
      // The re-check goes out first: cancelling the old watch can wait a moment.
      const recheck = this.#key.recheck(signal);
      started?.watch.close();
      this.#predecessorWatch = undefined;
      position = await recheck;
    }
    return position;
  }

  /**
   * Watches the predecessor from `readRevision + 1`: its delete, or an interruption, wakes
   * the loop.
   *
   * @returns undefined if it could not start for a reason other than `signal`.
   */
  async #watchPredecessor(
    predecessor: Buffer,
    readRevision: bigint,
    signal: AbortSignal,
  ): Promise<StartedWatch | undefined> {
    try {
      return await this.#settings.campaignClient.watchKey(
        predecessor,
        readRevision,
        {
          changed: (type) => {
            if (type === "delete") this.#wake?.();
          },
          interrupted: () => this.#wake?.(),
        },
        signal,
      );
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      this.#settings.logger.debug(
        { err: error, key: predecessor.toString() },
        "a watch did not start",
      );
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

  /** Revokes the lease, which deletes both keys. Succeeds if the lease is already gone. */
  async #release(signal: AbortSignal): Promise<void> {
    this.#stop();
    await this.#key.lossChecked;
    await this.#lease.revoke(signal, false);
  }

  /** Stops the watches and the keep-alives; the lease itself is left to revoke. */
  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const closeOwnWatch = this.#key.stop();
    const predecessorWatch = this.#predecessorWatch;
    this.#predecessorWatch = undefined;
    // Once the loop turns: a resign's revoke, sent in this turn, reaches etcd before these.
    setImmediate(() => {
      this.#lease.stopKeeping();
      closeOwnWatch();
      predecessorWatch?.close();
    });
  }
}
