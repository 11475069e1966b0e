import { createEtcdElector, type EtcdElector } from "@elector/etcd";
import { afterAll, describe, expect, it } from "vitest";
import { CandidateProcess } from "../../fixtures/candidate-process.js";
import { etcdForSuite } from "../../support/suite-servers.js";
import { lineOf, uniqueElection } from "./helpers.js";

const ttlSeconds = 2;
const ttlMs = ttlSeconds * 1000;
/** Starting a candidate process (tsx compiles the sources) takes a while on a busy machine. */
const startupMs = 20_000;

describe("etcd elector in processes that freeze or die", () => {
  const started = etcdForSuite();
  let observer: EtcdElector | undefined;
  const url = () => {
    const etcd = started();
    return `etcd://${etcd.getHost()}:${etcd.getClientPort()}?ttl=${ttlSeconds}`;
  };
  /** A candidate-less elector of `election` in this process, to read the line. */
  const observe = async (election: string) => {
    await observer?.close();
    observer = await createEtcdElector({
      election,
      endpoints: started().getClientEndpoints(),
      ttlSeconds,
    });
    return observer;
  };

  // Registered after the server's, so it runs first: the elector closes while etcd is up.
  afterAll(async () => {
    await observer?.close();
  });

  it("a leader frozen past its TTL (a GC pause) finds itself inactive on its first tick after it resumes, while the successor was elected meanwhile", async () => {
    const election = uniqueElection("frozen");
    const line = await observe(election);
    await using frozen = await CandidateProcess.start({ url: url(), election, id: "frozen" });
    await frozen.waitFor((event) => event.event === "tick" && event.active === true, startupMs);
    await using successor = await CandidateProcess.start({ url: url(), election, id: "successor" });
    await lineOf(line, 2, startupMs);

    frozen.freeze();
    await successor.waitFor((event) => event.event === "elected", ttlMs + 1500 + 1000);
    // Lines the process wrote before it froze may still be in the pipe: tell them by time.
    const thawedAt = Date.now();
    frozen.thaw();

    const resumed = (event: { at: number }) => event.at >= thawedAt;
    const firstTick = await frozen.waitFor(
      (event) => event.event === "tick" && resumed(event),
      ttlMs,
    );
    expect(firstTick.active).toBe(false);
    const lost = await frozen.waitFor((event) => event.event === "lost", ttlMs);
    expect(["deadline-passed", "lease-expired"]).toContain(lost.reason);
    const after = frozen.events.filter(resumed);
    expect(after.filter((event) => event.event === "tick" && event.active === true)).toEqual([]);
    expect(after.filter((event) => event.event === "elected")).toEqual([]);
  });

  it("elects the successor within TTL + 1.5 s of a SIGKILL of the leader", async () => {
    const election = uniqueElection("killed");
    const line = await observe(election);
    await using killed = await CandidateProcess.start({ url: url(), election, id: "killed" });
    await killed.waitFor((event) => event.event === "elected", startupMs);
    await using successor = await CandidateProcess.start({ url: url(), election, id: "successor" });
    await lineOf(line, 2, startupMs);

    const killedAt = Date.now();
    await killed.kill();
    const elected = await successor.waitFor(
      (event) => event.event === "elected",
      ttlMs + 1500 + 1000,
    );
    expect(elected.at - killedAt).toBeLessThanOrEqual(ttlMs + 1500);
    expect(await line.leader()).toMatchObject({ id: "successor" });
  });
});
