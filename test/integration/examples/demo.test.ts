// `pnpm demo` as CI runs it: on memory and on etcd (started by the demo itself through
// @elector/testing), with its summary checked. The backend choice is tested on its own.
import { TestingSetupError } from "@elector/testing";
import { describe, expect, it } from "vitest";
import { chooseBackend } from "../../../examples/demo/src/backend.js";
import { SpawnedProcess } from "../cli/spawned-process.js";

/** The demo's TTL (2 s) on every backend it picks, and the one these tests give it. */
const ttlMs = 2_000;
/** The issue keeps the whole demo under about 30 s; a container start comes on top. */
const demoMs = 30_000;
const containerStartMs = 30_000;

interface Summary {
  readonly failoverAfterFreezeMs: number;
  readonly failoverAfterKillMs: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly timeline: string;
}

/** Runs `pnpm demo` to its end and reads its summary. */
async function runDemo(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Summary> {
  await using demo = SpawnedProcess.start("pnpm demo", "pnpm", ["--silent", "demo"], { env });
  const exit = await demo.waitForExit(timeoutMs);
  const timeline = demo.output("stdout");
  expect(exit, `${timeline}\n${demo.output("stderr")}`).toEqual({ code: 0, signal: null });
  const failover = / {2}failover {2}(\d+) ms after the freeze, (\d+) ms after the kill$/m.exec(
    timeline,
  );
  const writes = / {2}writes {4}(\d+) accepted, (\d+) rejected$/m.exec(timeline);
  expect(failover, timeline).not.toBeNull();
  expect(writes, timeline).not.toBeNull();
  return {
    failoverAfterFreezeMs: Number(failover?.[1]),
    failoverAfterKillMs: Number(failover?.[2]),
    accepted: Number(writes?.[1]),
    rejected: Number(writes?.[2]),
    timeline,
  };
}

/** The seconds column of the timeline's last line. */
function lastTimelineSecond(timeline: string): number {
  const times = [...timeline.matchAll(/^ *(\d+\.\d\d)s {2}/gm)].map((match) => Number(match[1]));
  return times.at(-1) ?? Number.NaN;
}

describe("pnpm demo", () => {
  it("on memory: three workers in one process; the frozen leader's write is rejected by the fence; a summary and exit 0", async () => {
    const summary = await runDemo({ ELECTOR_URL: `memory://demo-test?ttlMs=${ttlMs}` }, demoMs);
    expect(summary.timeline).toMatch(
      /in-process memory backend, so the three candidates are async workers/,
    );
    expect(summary.timeline).toMatch(
      /ledger write REJECTED by the fence: token (\d+) is stale, the ledger has seen \d+/,
    );
    expect(summary.timeline).toMatch(/stepped down \(deadline-passed\)/);
    // A memory candidate whose renewals stop steps down at its deadline, before the TTL, and
    // releases its key; the kill expires the session at once (well under a second, where a
    // server takes up to the TTL).
    expect(summary.failoverAfterFreezeMs).toBeLessThan(ttlMs + 1_500);
    expect(summary.failoverAfterKillMs).toBeLessThan(1_000);
    expect(summary.rejected).toBe(1);
    // Three ticks of the first leader, three of the second, two of the third.
    expect(summary.accepted).toBeGreaterThanOrEqual(8);
    expect(lastTimelineSecond(summary.timeline)).toBeLessThan(demoMs / 1_000);
  });

  it("without ELECTOR_URL: etcd in a container, three processes frozen with SIGSTOP and killed with SIGKILL, each failover within TTL + 1.5 s", async () => {
    const env = { ...process.env };
    delete env.ELECTOR_URL;
    const summary = await runDemo(env, containerStartMs + demoMs);
    expect(summary.timeline).toContain(
      `etcd in a container (${process.env.ELECTOR_ETCD_IMAGE ?? "quay.io/coreos/etcd"}`,
    );
    expect(summary.timeline).toMatch(/freezing \w+ \(SIGSTOP\)/);
    expect(summary.timeline).toMatch(/killed \w+ \(SIGKILL\)/);
    expect(summary.timeline).toMatch(/ledger write REJECTED by the fence/);
    expect(summary.failoverAfterFreezeMs).toBeLessThan(ttlMs + 1_500);
    expect(summary.failoverAfterKillMs).toBeLessThan(ttlMs + 1_500);
    expect(summary.rejected).toBe(1);
    expect(summary.accepted).toBeGreaterThanOrEqual(8);
    expect(lastTimelineSecond(summary.timeline)).toBeLessThan((containerStartMs + demoMs) / 1_000);
  });
});

describe("the demo's backend choice", () => {
  const failingEtcd = (error: Error) => async () => ({
    image: "etcd:test",
    start: () => Promise.reject(error),
  });

  it("takes ELECTOR_URL when set, as processes for a server, with the URL's TTL", async () => {
    const loadEtcd = () => Promise.reject(new Error("must not start a container"));
    const etcd = await chooseBackend({ ELECTOR_URL: "etcd://10.0.0.1:2379?ttl=3" }, loadEtcd);
    expect(etcd).toMatchObject({
      name: "etcd",
      mode: "processes",
      ttlMs: 3_000,
      url: "etcd://10.0.0.1:2379?ttl=3",
    });
    const zk = await chooseBackend({ ELECTOR_URL: "zk://10.0.0.1:2181" }, loadEtcd);
    expect(zk).toMatchObject({ name: "zookeeper", mode: "processes", ttlMs: 10_000 });
    const memory = await chooseBackend({ ELECTOR_URL: "memory://x" }, loadEtcd);
    expect(memory).toMatchObject({ name: "memory", mode: "memory", ttlMs: 10_000 });
  });

  it("falls back to memory, saying why in one line, when no container engine answers", async () => {
    const backend = await chooseBackend(
      {},
      failingEtcd(
        new TestingSetupError(
          "docker-unavailable",
          "no Docker engine answers at unix:///var/run/docker.sock (nor at any place testcontainers looks); install and start one",
        ),
      ),
    );
    expect(backend).toMatchObject({ name: "memory", mode: "memory", ttlMs });
    expect(backend.url).toMatch(/^memory:\/\/demo-\d+\?ttlMs=2000$/);
    expect(backend.description).toBe(
      "no etcd container (no Docker engine answers at unix:///var/run/docker.sock (nor at any place testcontainers looks)): running on the in-process memory backend, with the three candidates as async workers in this one process; set ELECTOR_URL to use a server",
    );
    expect(backend.description).not.toContain("\n");
  });

  it("starts etcd with a 2-second TTL when a container engine answers, and removes it on dispose", async () => {
    let removed = false;
    const backend = await chooseBackend({}, async () => ({
      image: "etcd:test",
      start: async () => ({
        getHost: () => "127.0.0.1",
        getClientPort: () => 23790,
        remove: async () => {
          removed = true;
        },
      }),
    }));
    expect(backend).toMatchObject({
      name: "etcd",
      mode: "processes",
      ttlMs,
      url: "etcd://127.0.0.1:23790?ttl=2",
    });
    await backend.dispose();
    expect(removed).toBe(true);
  });
});
