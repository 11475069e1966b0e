// `elector run` against real servers: failover between two processes when the leader's host
// dies, the command stopped when the server stops answering, and the read commands
// following along.
import type { EtcdContainer, StartedServerContainer, ZooKeeperContainer } from "@elector/testing";
import { describe, expect, it } from "vitest";
import { etcdForSuite, zooKeeperForSuite } from "../../support/suite-servers.js";
import { runCli, SpawnedProcess } from "./spawned-process.js";

/** The TTL every test runs with: etcd's lease TTL, ZooKeeper's session timeout. */
const ttlMs = 2_000;
/** What the issue allows between the leader's death and the successor's command starting. */
const failoverBoundMs = ttlMs + 1_500;
/** Starting a CLI from source under tsx on a busy machine. */
const startupMs = 15_000;

// The command that `elector run` supervises: says when it starts and when it gets SIGTERM.
// "started" comes once the sleep's pid is known, so that SIGTERM never orphans the sleep.
const command = [
  "sh",
  "-c",
  'trap \'echo "sigterm $ELECTOR_LEADER_ID"; kill $pid; exit 0\' TERM; sleep 600 & pid=$!; echo "started $ELECTOR_LEADER_ID $ELECTOR_FENCING_TOKEN $ELECTOR_ELECTION"; wait $pid',
];

const backends = [
  {
    name: "etcd",
    forSuite: (): (() => StartedServerContainer) => etcdForSuite(),
    url: (server: StartedServerContainer) =>
      `etcd://${server.getHost()}:${(server as Awaited<ReturnType<EtcdContainer["start"]>>).getClientPort()}`,
  },
  {
    name: "ZooKeeper",
    forSuite: (): (() => StartedServerContainer) => zooKeeperForSuite(),
    url: (server: StartedServerContainer) =>
      `zk://${(server as Awaited<ReturnType<ZooKeeperContainer["start"]>>).getConnectionString()}/cli-tests`,
  },
];

describe.each(backends)("elector run on $name", (backend) => {
  const server = backend.forSuite();
  let election = 0;

  const target = () => [
    "--url",
    backend.url(server()),
    "--election",
    `cli-${process.pid}-${election}`,
  ];
  const run = (id: string) => {
    const cli = SpawnedProcess.cli(`elector run ${id}`, [
      "run",
      ...target(),
      "--id",
      id,
      "--ttl",
      `${ttlMs}ms`,
      "--",
      ...command,
    ]);
    // elector runs each command in a process group of its own: a test that fails midway
    // must end those too.
    cli.onDispose(() => killGroups(commandGroups(cli), "SIGKILL"));
    return cli;
  };

  it("starts the other's command within TTL + 1.5 s when the leader's host dies; leader, participants and observe follow", async () => {
    election++;
    await using observer = SpawnedProcess.cli("elector observe", [
      "observe",
      ...target(),
      "--json",
    ]);
    await observer.waitForLine(/"leader":null/, startupMs);

    await using a = run("a");
    const startedA = await a.waitForLine(/^started a \d+ /, startupMs);
    const tokenA = BigInt(startedA.text.split(" ")[2] ?? "0");
    await using b = run("b");
    await b.waitForLine(/campaigning in election/, startupMs);
    // b is in line once participants lists it.
    let line: { id: string; leader: boolean; token: string }[] = [];
    for (let attempt = 0; line.length < 2; attempt++) {
      expect(attempt, "b did not join the line").toBeLessThan(20);
      const participants = await runCli(["participants", ...target(), "--json"], startupMs);
      expect(participants.exit.code).toBe(0);
      line = JSON.parse(participants.stdout);
    }
    expect(line.map(({ id, leader }) => ({ id, leader }))).toEqual([
      { id: "a", leader: true },
      { id: "b", leader: false },
    ]);
    const leader = await runCli(["leader", ...target()], startupMs);
    expect(leader.stdout).toBe(`a token=${tokenA} value="a"\n`);
    await observer.waitForLine(/"id":"a"/, startupMs);

    // The whole host dies: elector and its command alike, without a chance to resign.
    a.killGroup("SIGKILL");
    killGroups(commandGroups(a), "SIGKILL");
    const killedAt = performance.now();
    const startedB = await b.waitForLine(/^started b \d+ /, failoverBoundMs + 1_000);
    expect(startedB.at - killedAt).toBeLessThan(failoverBoundMs);
    const tokenB = BigInt(startedB.text.split(" ")[2] ?? "0");
    expect(tokenB).toBeGreaterThan(tokenA);
    expect(startedB.text).toBe(`started b ${tokenB} cli-${process.pid}-${election}`);

    await observer.waitForLine(/"id":"b"/, 5_000);
    const observed = observer
      .output()
      .trim()
      .split("\n")
      .map((text) => JSON.parse(text).leader?.id ?? null);
    // Each change once, in order; "no leader" may show between a and b.
    expect(observed.filter((id, index) => id !== observed[index - 1])).toEqual(
      observed.includes(null, 1) ? [null, "a", null, "b"] : [null, "a", "b"],
    );
    expect((await runCli(["leader", ...target(), "--json"], startupMs)).stdout).toBe(
      `${JSON.stringify({ id: "b", value: "b", token: String(tokenB) })}\n`,
    );

    // A stop signal goes to the command; once it has exited, b resigns and exits with its code.
    b.kill("SIGTERM");
    await b.waitForLine(/^sigterm b$/, 5_000);
    expect(await b.waitForExit(10_000)).toEqual({ code: 0, signal: null });
    await observer.waitForLine(/"leader":null/, 5_000, observer.lines.length - 1);
    observer.kill("SIGINT");
    expect(await observer.waitForExit(10_000)).toEqual({ code: 0, signal: null });
  });

  it("sends SIGTERM to the command when the paused server stops answering, within TTL + 1.5 s", async () => {
    election++;
    await using c = run("c");
    await c.waitForLine(/^started c \d+ /, startupMs);
    await server().pause();
    const pausedAt = performance.now();
    try {
      const sigterm = await c.waitForLine(/^sigterm c$/, failoverBoundMs + 1_000);
      expect(sigterm.at - pausedAt).toBeLessThan(failoverBoundMs);
      // The elector's own log line, JSON with the reason.
      await c.waitForLine(
        /"reason":"(deadline-passed|connection-lost|session-expired|lease-expired)".*"msg":"leadership ended"/,
        1_000,
      );
      await c.waitForLine(/sh exited with code 0/, 1_000);
    } finally {
      await server().unpause();
    }
    c.kill("SIGTERM");
    const exit = await c.waitForExit(10_000);
    // Stopped while campaigning again (143), or after it led again and its command exited (0).
    expect([0, 143]).toContain(exit.code);
  });
});

/** The process groups of the commands that `cli` started: it logs "started sh (pid N)". */
function commandGroups(cli: SpawnedProcess): number[] {
  return [...cli.output("stderr").matchAll(/started \S+ \(pid (\d+)\)/g)].map((match) =>
    Number(match[1]),
  );
}

function killGroups(groups: readonly number[], signal: NodeJS.Signals): void {
  for (const group of groups) {
    try {
      process.kill(-group, signal);
    } catch {
      // Gone already.
    }
  }
}
