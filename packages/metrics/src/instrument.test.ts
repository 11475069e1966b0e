import { createMemoryElector, type MemoryElector } from "@elector/core";
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
} from "@opentelemetry/sdk-metrics";
import { afterEach, describe, expect, it } from "vitest";
import { instrumentElector } from "./instrument.js";

/** A reader the test collects from on demand, through the real SDK. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}

  /** The data points of `name`, with their attributes. */
  async points(name: string): Promise<DataPoint<number | Histogram>[]> {
    const { resourceMetrics } = await this.collect();
    const metric = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((candidate) => candidate.descriptor.name === name);
    return (metric?.dataPoints ?? []) as DataPoint<number | Histogram>[];
  }
}

const open: MemoryElector[] = [];
let namespaces = 0;

function setup() {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter("test");
  const name = `metrics-unit-${++namespaces}`;
  const a = createMemoryElector({ election: "jobs", id: "a", name, ttlMs: 600 });
  const b = createMemoryElector({ election: "jobs", id: "b", name, ttlMs: 600 });
  open.push(a, b);
  return { reader, meter, a, b };
}

function valueFor(points: DataPoint<number | Histogram>[], candidate: string): unknown {
  return points.find((point) => point.attributes["elector.candidate"] === candidate)?.value;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((elector) => elector.close()));
});

describe("instrumentElector", () => {
  it("gauges the leader per candidate and counts terms and losses by reason", async () => {
    const { reader, meter, a, b } = setup();
    instrumentElector(a, { meter });
    instrumentElector(b, { meter });
    const first = await a.campaign();
    const second = b.campaign();

    const leading = await reader.points("elector.leader");
    expect(valueFor(leading, "a")).toBe(1);
    expect(valueFor(leading, "b")).toBe(0);
    expect(leading[0]?.attributes).toMatchObject({
      "elector.election": "jobs",
      "elector.backend": "memory",
    });

    await first.resign();
    await second;
    expect(valueFor(await reader.points("elector.leader"), "a")).toBe(0);
    expect(valueFor(await reader.points("elector.leader"), "b")).toBe(1);
    expect(valueFor(await reader.points("elector.terms"), "a")).toBe(1);
    expect(valueFor(await reader.points("elector.terms"), "b")).toBe(1);
    const losses = await reader.points("elector.losses");
    expect(losses).toHaveLength(1);
    expect(losses[0]?.attributes).toMatchObject({
      "elector.candidate": "a",
      "elector.loss.reason": "resigned",
    });
    expect(losses[0]?.value).toBe(1);
  });

  it("records campaign time for every term and handoff time for a successor", async () => {
    const { reader, meter, a, b } = setup();
    instrumentElector(a, { meter });
    instrumentElector(b, { meter });
    const first = await a.campaign();
    const second = b.campaign();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await first.resign();
    await second;

    const campaigns = await reader.points("elector.campaign.duration");
    const waited = valueFor(campaigns, "b") as Histogram;
    expect(waited.count).toBe(1);
    expect(waited.sum).toBeGreaterThanOrEqual(0.045);
    const handoffs = await reader.points("elector.handoff.duration");
    // a joined an empty line: it had no handoff to time.
    expect(valueFor(handoffs, "a")).toBeUndefined();
    const handoff = valueFor(handoffs, "b") as Histogram;
    expect(handoff.count).toBe(1);
    expect(handoff.sum).toBeLessThan(waited.sum ?? 0);
  });

  it("reports a stalled leader as not leading at the next collection", async () => {
    const { reader, meter, a } = setup();
    instrumentElector(a, { meter });
    const leadership = await a.campaign();
    a.faults.stopRenewals();
    await new Promise((resolve) => leadership.signal.addEventListener("abort", resolve));
    expect(valueFor(await reader.points("elector.leader"), "a")).toBe(0);
    const losses = await reader.points("elector.losses");
    expect(losses[0]?.attributes["elector.loss.reason"]).toBe("deadline-passed");
  });

  it("stops recording once stopped", async () => {
    const { reader, meter, a } = setup();
    const binding = instrumentElector(a, { meter });
    binding.stop();
    binding.stop();
    await a.campaign();
    expect(await reader.points("elector.terms")).toEqual([]);
    expect(await reader.points("elector.leader")).toEqual([]);
  });
});
