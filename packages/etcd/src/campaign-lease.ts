import { now, raceSignal, type TermControl } from "@elector/core/backend";
import { EtcdLeaseInvalidError, type ILeaseGrantResponse } from "etcd3";
import type { CampaignSettings } from "./campaign-client.js";
import { backendError, callOptions } from "./client.js";
import { leaseHex } from "./keys.js";
import { retrying } from "./retry.js";

/** A granted lease: its ID as etcd3 gives it, and as Go prints it in a candidate key. */
export interface GrantedLease {
  readonly id: string;
  readonly hex: string;
}

/**
 * The lease of one campaign, and the bridge from its keep-alives to the term's local
 * deadline: granted first, kept alive through the elector's `LeaseKeeper`, each acknowledged
 * renewal moving the deadline to its send time + TTL − margin, revoked on every way out.
 */
export class CampaignLease {
  readonly #settings: CampaignSettings;
  readonly #term: TermControl;
  #lease: GrantedLease | undefined;
  #stopKeeping: () => void = () => {};

  constructor(settings: CampaignSettings, term: TermControl) {
    this.#settings = settings;
    this.#term = term;
  }

  /** The granted lease. @throws if none was granted. */
  get granted(): GrantedLease {
    if (this.#lease === undefined) throw new Error("no lease was granted");
    return this.#lease;
  }

  /** The granted lease, if any. */
  get current(): GrantedLease | undefined {
    return this.#lease;
  }

  /**
   * Grants the lease, sets the first deadline from the grant's send time, and keeps the lease
   * alive until {@link stopKeeping}.
   *
   * @returns the revision of the grant's answer.
   */
  async grant(signal: AbortSignal): Promise<bigint> {
    const { campaignClient: client, ttlSeconds, requestTimeoutMs } = this.#settings;
    /** Grants sent and not yet answered: an abort leaves them under way. */
    const underWay = new Set<Promise<ILeaseGrantResponse>>();
    let result: { granted: ILeaseGrantResponse; sentAt: number };
    try {
      result = await retrying(
        async () => {
          const sentAt = now();
          const request = client.leaseClient.leaseGrant(
            { TTL: ttlSeconds },
            callOptions(requestTimeoutMs),
          );
          underWay.add(request);
          const settled = () => underWay.delete(request);
          request.then(settled, settled);
          return { granted: await request, sentAt };
        },
        { signal, onRetry: (error) => this.#retrying("granting a lease", error) },
      );
    } catch (error) {
      // A grant given up may still succeed; its deadline bounds the wait. It is revoked here,
      // before the campaign settles: once it has, close() may close the client, and a revoke
      // through a closed client would leave the lease to live out its TTL.
      await Promise.all([...underWay].map((request) => this.#revokeLate(request)));
      throw error;
    }
    const { granted, sentAt } = result;
    const lease = { id: granted.ID, hex: leaseHex(granted.ID) };
    this.#lease = lease;
    const ttl = Number(granted.TTL);
    this.#extend(sentAt, ttl);
    this.#keep(lease, ttl);
    this.#settings.logger.debug({ lease: lease.hex, ttlSeconds: ttl }, "lease granted");
    return BigInt(granted.header.revision);
  }

  /**
   * Hands the lease to the keeper. Apart from grant(): its callbacks live as long as the lease,
   * and closures made there would keep grant()'s whole scope alive with them.
   */
  #keep(lease: GrantedLease, ttl: number): void {
    this.#stopKeeping = this.#settings.keeper.keep(lease.id, ttl, {
      renewed: (renewalSentAt, renewedTtl) => this.#extend(renewalSentAt, renewedTtl),
      expired: () =>
        this.#term.lose(
          "lease-expired",
          `etcd answered a keep-alive of lease ${lease.hex} with TTL 0: the lease is gone`,
        ),
    });
  }

  /** Stops the keep-alives; the lease then expires within its TTL unless revoked first. */
  stopKeeping(): void {
    this.#stopKeeping();
  }

  /**
   * Whether etcd says the lease is gone (expired or revoked); false if it is alive or the
   * question got no answer within a second (or before `signal` aborted).
   */
  async isGone(signal: AbortSignal): Promise<boolean> {
    const lease = this.#lease;
    if (lease === undefined) return false;
    try {
      const response = await raceSignal(
        this.#settings.campaignClient.leaseClient.leaseTimeToLive(
          { ID: lease.id },
          callOptions(Math.min(this.#settings.requestTimeoutMs, 1000)),
        ),
        signal,
      );
      return Number(response.TTL) <= 0;
    } catch {
      return false;
    }
  }

  /**
   * Revokes the lease, which deletes its keys. Succeeds if the lease is already gone, or was
   * never granted.
   *
   * @param retry retry transient failures for up to one request timeout.
   */
  async revoke(signal: AbortSignal, retry: boolean): Promise<void> {
    const lease = this.#lease;
    if (lease === undefined) return;
    const attempt = () => this.revokeId(lease.id);
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

  /** Revokes the lease of a grant that was given up, once (and if) it is granted. */
  async #revokeLate(request: Promise<ILeaseGrantResponse>): Promise<void> {
    let late: ILeaseGrantResponse;
    try {
      late = await request;
    } catch {
      return; // nothing was granted, or the grant expires within its TTL unseen
    }
    try {
      await retrying(() => this.revokeId(late.ID), {
        signal: new AbortController().signal,
        maxRetryTimeMs: this.#settings.requestTimeoutMs,
      });
    } catch (error) {
      this.#settings.logger.warn(
        { err: error, lease: leaseHex(late.ID) },
        "could not revoke the lease of a grant that was given up; it expires within its TTL",
      );
    }
  }

  /** Revokes lease `id`; succeeds if etcd does not know it. */
  async revokeId(id: string): Promise<void> {
    try {
      await this.#settings.campaignClient.leaseClient.leaseRevoke(
        { ID: id },
        callOptions(this.#settings.requestTimeoutMs),
      );
    } catch (error) {
      if (!(error instanceof EtcdLeaseInvalidError)) throw error;
    }
  }

  /** The local deadline: the send time of an acknowledged request, plus the TTL, minus the margin. */
  #extend(sentAt: number, ttlSeconds: number): void {
    this.#term.extendDeadline(sentAt + ttlSeconds * 1000 - this.#settings.safetyMarginMs);
  }

  #retrying(what: string, error: unknown): void {
    this.#settings.logger.debug({ err: error }, `${what} failed; retrying`);
  }
}
