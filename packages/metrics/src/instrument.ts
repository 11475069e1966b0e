import type { Elector, Leadership } from "@elector/core";
import {
  type Attributes,
  type Counter,
  type Histogram,
  type Meter,
  metrics,
  type ObservableGauge,
  type ObservableResult,
} from "@opentelemetry/api";

/** Options of {@link instrumentElector}. */
export interface ElectorMetricsOptions {
  /**
   * Where the instruments are created.
   *
   * @defaultValue `metrics.getMeter("@elector/metrics")` of the global meter provider
   */
  readonly meter?: Meter;
}

/** A binding made by {@link instrumentElector}; disposing it stops recording. */
export interface ElectorInstrumentation extends Disposable {
  /** Stops recording and reporting this elector. Idempotent. */
  stop(): void;
}

/** Bucket boundaries, in seconds, for handoffs of a millisecond up to campaigns of minutes. */
const durationBuckets = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];

/** One set of instruments per meter, shared by every elector bound to it. */
interface Instruments {
  readonly leader: ObservableGauge;
  readonly terms: Counter;
  readonly losses: Counter;
  readonly campaign: Histogram;
  readonly handoff: Histogram;
}

const byMeter = new WeakMap<Meter, Instruments>();

function instrumentsOf(meter: Meter): Instruments {
  let instruments = byMeter.get(meter);
  if (instruments === undefined) {
    instruments = {
      leader: meter.createObservableGauge("elector.leader", {
        description:
          "1 while this candidate may act as leader (Leadership.isActive()), else 0; per election and candidate.",
        unit: "1",
      }),
      terms: meter.createCounter("elector.terms", {
        description: "Terms of leadership this candidate started.",
        unit: "{term}",
      }),
      losses: meter.createCounter("elector.losses", {
        description: "Terms that ended, by reason (elector.loss.reason).",
        unit: "{term}",
      }),
      campaign: meter.createHistogram("elector.campaign.duration", {
        description: "From the campaign() call to elected.",
        unit: "s",
        advice: { explicitBucketBoundaries: durationBuckets },
      }),
      handoff: meter.createHistogram("elector.handoff.duration", {
        description:
          "From the moment this candidate saw the candidate ahead of it go, to elected (the re-check).",
        unit: "s",
        advice: { explicitBucketBoundaries: durationBuckets },
      }),
    };
    byMeter.set(meter, instruments);
  }
  return instruments;
}

/**
 * Records an elector's events as OpenTelemetry metrics, through `@opentelemetry/api`: what
 * client-go's users asked for first (a leader gauge, then transitions), and the times that
 * tell a slow handoff from a slow server.
 *
 * | instrument | kind | attributes |
 * | --- | --- | --- |
 * | `elector.leader` | gauge, 1 or 0 | election, candidate, backend |
 * | `elector.terms` | counter | election, candidate, backend |
 * | `elector.losses` | counter | the same, and `elector.loss.reason` |
 * | `elector.campaign.duration` | histogram, seconds | election, candidate, backend |
 * | `elector.handoff.duration` | histogram, seconds | election, candidate, backend |
 *
 * The attributes are `elector.election`, `elector.candidate` and `elector.backend`. With no
 * meter provider registered, the API's no-op meter records nothing.
 *
 * @example
 * ```ts
 * const binding = instrumentElector(elector, { meter: provider.getMeter("billing") });
 * // … later
 * binding.stop();
 * ```
 */
export function instrumentElector(
  elector: Elector,
  options: ElectorMetricsOptions = {},
): ElectorInstrumentation {
  const meter = options.meter ?? metrics.getMeter("@elector/metrics");
  const instruments = instrumentsOf(meter);
  const attributes: Attributes = {
    "elector.election": elector.election,
    "elector.candidate": elector.id,
    "elector.backend": elector.backend,
  };
  let leadership: Leadership | undefined;
  const observeLeader = (result: ObservableResult) => {
    result.observe(leadership?.isActive() === true ? 1 : 0, attributes);
  };
  instruments.leader.addCallback(observeLeader);
  const unsubscribe = [
    elector.on("elected", (event) => {
      leadership = event.leadership;
      instruments.terms.add(1, attributes);
      instruments.campaign.record(event.campaignMs / 1_000, attributes);
      if (event.handoffMs !== undefined) {
        instruments.handoff.record(event.handoffMs / 1_000, attributes);
      }
    }),
    elector.on("lost", (event) => {
      if (leadership?.token === event.token) leadership = undefined;
      instruments.losses.add(1, { ...attributes, "elector.loss.reason": event.reason });
    }),
  ];

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    for (const off of unsubscribe) off();
    instruments.leader.removeCallback(observeLeader);
    leadership = undefined;
  };
  return { stop, [Symbol.dispose]: stop };
}
