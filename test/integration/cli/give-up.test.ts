// `elector run --try` and `--timeout` for cron-style use on a real etcd: give up without
// leading, with exit code 75, and never run the command then.
import { describe, expect, it } from "vitest";
import { etcdForSuite } from "../../support/suite-servers.js";
import { runCli, SpawnedProcess } from "./spawned-process.js";

const ttlMs = 2_000;
/** Starting a CLI from source under tsx on a busy machine. */
const startupMs = 15_000;
/** `elector run`'s exit code when it gave up without leading. */
const notElected = 75;

// Says that it ran, then holds the leadership until stopped.
const holder = ["sh", "-c", 'echo "ran $ELECTOR_LEADER_ID"; exec sleep 600'];

describe("elector run --try and --timeout on etcd", () => {
  const etcd = etcdForSuite();
  let election = 0;
  const target = () => [
    "--url",
    `etcd://${etcd().getHost()}:${etcd().getClientPort()}`,
    "--election",
    `give-up-${process.pid}-${election}`,
    "--ttl",
    `${ttlMs}ms`,
  ];
  const run = (id: string, ...flags: string[]) =>
    SpawnedProcess.cli(`elector run ${id}`, [
      "run",
      ...target(),
      "--id",
      id,
      ...flags,
      "--",
      ...holder,
    ]);

  it("--try exits 75 without running its command while another leads, and runs it once leadership is free", async () => {
    election++;
    await using leader = run("leader");
    await leader.waitForLine(/^ran leader$/, startupMs);
    const refused = await runCli(
      ["run", ...target(), "--id", "late", "--try", "--", "sh", "-c", "echo ran late"],
      startupMs,
    );
    expect(refused.exit.code).toBe(notElected);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/"exitCode":75,"msg":"leader leads \(--try\); giving up"/);

    leader.kill("SIGTERM");
    await leader.waitForExit(10_000);
    const free = await runCli(
      ["run", ...target(), "--id", "late", "--try", "--", "sh", "-c", "echo ran late; exit 3"],
      startupMs,
    );
    expect(free.stdout).toBe("ran late\n");
    expect(free.exit.code).toBe(3);
  });

  it("of two --try started at once on a free election, exactly one runs its command and the other exits 75", async () => {
    election++;
    await using a = run("a", "--try");
    await using b = run("b", "--try");
    const { process: winner } = await SpawnedProcess.waitForAny([a, b], /^ran [ab]$/, startupMs);
    const loser = winner === a ? b : a;
    expect((await loser.waitForExit(startupMs)).code).toBe(notElected);
    expect(loser.output()).toBe("");
    expect(winner.lines.filter((line) => line.stream === "stdout")).toHaveLength(1);
  });

  it("--timeout gives up a campaign that has not won within it with 75, and leaves the line", async () => {
    election++;
    await using leader = run("leader");
    await leader.waitForLine(/^ran leader$/, startupMs);
    const timeoutMs = 1_500;
    await using waiter = run("waiter", "--timeout", `${timeoutMs}ms`);
    const campaigning = await waiter.waitForLine(/campaigning in election/, startupMs);
    const exit = await waiter.waitForExit(timeoutMs + 5_000);
    const gaveUpAfter = performance.now() - campaigning.at;
    expect(exit.code).toBe(notElected);
    expect(waiter.output()).toBe("");
    expect(waiter.output("stderr")).toMatch(/not elected within 1\.5s \(--timeout\); giving up/);
    expect(gaveUpAfter).toBeGreaterThanOrEqual(timeoutMs - 100);
    // It resigned its place in line: only the leader is left.
    const line = await runCli(["participants", ...target().slice(0, 4), "--json"], startupMs);
    expect(JSON.parse(line.stdout).map((participant: { id: string }) => participant.id)).toEqual([
      "leader",
    ]);
  });
});
