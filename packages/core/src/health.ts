import { now } from "./driver.js";
import type { Elector, Leadership } from "./elector.js";
import { InvalidOptionError } from "./errors.js";

/** Options of {@link LeaderHealth}. */
export interface LeaderHealthOptions {
  /**
   * How long this candidate may lead without an acknowledged renewal before {@link
   * LeaderHealth.check} reports it unhealthy. Choose it below the TTL less the safety margin,
   * so that the probe fails while the term still holds: renewals arrive about every third
   * of the TTL, so twice that interval is a good start.
   */
  readonly maxRenewalAgeMs: number;
}

/** What {@link LeaderHealth.check} reports. */
export interface HealthReport {
  /** False only when this candidate believes it leads but has not renewed in time. */
  readonly healthy: boolean;
  /** Whether this candidate believes it leads: elected, and the term has not ended. */
  readonly leading: boolean;
  /** While leading, milliseconds since the election or the last acknowledged renewal. */
  readonly renewalAgeMs: number | undefined;
  /** One line for a probe's answer body. */
  readonly message: string;
}

/**
 * Liveness and readiness probes for one elector, as client-go's `HealthzAdaptor` and a
 * leader-only readiness gate.
 *
 * {@link check} fails when this candidate believes it leads but its renewals stopped being
 * acknowledged: a stuck keep-alive or session that a restart would cure. A follower and a
 * candidate that is still campaigning are healthy. {@link ready} passes on the leader alone,
 * for a Service or load balancer that must send traffic only to it.
 *
 * @example
 * ```ts
 * const health = new LeaderHealth(elector, { maxRenewalAgeMs: 6_000 });
 * // GET /healthz → health.check().healthy ? 200 : 503;  GET /ready → health.ready() ? 200 : 503
 * ```
 */
export class LeaderHealth implements Disposable {
  readonly #maxRenewalAgeMs: number;
  readonly #stop: (() => void)[];
  #leadership: Leadership | undefined;
  #renewedAt = 0;

  /**
   * @throws InvalidOptionError if `maxRenewalAgeMs` is not a positive finite number.
   */
  constructor(elector: Elector, options: LeaderHealthOptions) {
    const maxRenewalAgeMs = options?.maxRenewalAgeMs;
    if (
      typeof maxRenewalAgeMs !== "number" ||
      !Number.isFinite(maxRenewalAgeMs) ||
      maxRenewalAgeMs <= 0
    ) {
      throw new InvalidOptionError(
        "maxRenewalAgeMs",
        maxRenewalAgeMs,
        "a positive finite number of milliseconds",
      );
    }
    this.#maxRenewalAgeMs = maxRenewalAgeMs;
    this.#stop = [
      elector.on("elected", ({ leadership }) => {
        this.#leadership = leadership;
        this.#renewedAt = now();
      }),
      elector.on("renewed", ({ token }) => {
        if (this.#leadership?.token === token) this.#renewedAt = now();
      }),
      elector.on("lost", ({ token }) => {
        if (this.#leadership?.token === token) this.#leadership = undefined;
      }),
    ];
  }

  /** The liveness verdict; see the class. */
  check(): HealthReport {
    const leadership = this.#leadership;
    if (leadership === undefined || leadership.signal.aborted) {
      return { healthy: true, leading: false, renewalAgeMs: undefined, message: "not leading" };
    }
    const renewalAgeMs = now() - this.#renewedAt;
    const healthy = renewalAgeMs <= this.#maxRenewalAgeMs;
    const age = `${Math.round(renewalAgeMs)} ms`;
    return {
      healthy,
      leading: true,
      renewalAgeMs,
      message: healthy
        ? `leading; last renewal ${age} ago`
        : `leading, but no renewal was acknowledged for ${age} (bound ${this.#maxRenewalAgeMs} ms)`,
    };
  }

  /** The readiness verdict: whether this candidate may act as leader now (`isActive()`). */
  ready(): boolean {
    return this.#leadership?.isActive() === true;
  }

  /** Stops listening to the elector. */
  close(): void {
    for (const stop of this.#stop.splice(0)) stop();
    this.#leadership = undefined;
  }

  /** {@link close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
