// `elector run` killed with SIGKILL: nothing can run in it any more, yet its command must not
// outlive it, or the command would go on writing beside the successor's command.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { etcdForSuite } from "../../support/suite-servers.js";
import { SpawnedProcess } from "./spawned-process.js";

const ttlMs = 2_000;
/** Starting a CLI from source under tsx on a busy machine. */
const startupMs = 15_000;

// Appends "<id> <token>" to $LOG every 20 ms while it runs, as a leader's writer would.
const writer = [
  "sh",
  "-c",
  'while :; do echo "$ELECTOR_LEADER_ID $ELECTOR_FENCING_TOKEN" >> "$LOG"; sleep 0.02; done',
];

describe("elector run killed with SIGKILL on etcd", () => {
  const etcd = etcdForSuite();
  const directory = mkdtempSync(join(tmpdir(), "elector-cli-kill-"));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it("takes its command's process group with it: the command stops writing before the successor's command starts", async () => {
    const log = join(directory, "writes");
    const url = `etcd://${etcd().getHost()}:${etcd().getClientPort()}`;
    const run = (id: string) => {
      const cli = SpawnedProcess.cli(
        `elector run ${id}`,
        [
          "run",
          ...["--url", url, "--election", `kill-${process.pid}`, "--id", id],
          ...["--ttl", `${ttlMs}ms`, "--", ...writer],
        ],
        { LOG: log },
      );
      // Should the test fail, the command groups must not outlive it either.
      cli.onDispose(() => {
        for (const group of commandGroups(cli)) killGroup(group);
      });
      return cli;
    };
    const lines = () => readFileSync(log, "utf8").split("\n").filter(Boolean);

    await using a = run("a");
    await a.waitForLine(/started sh/, startupMs);
    const [groupA] = commandGroups(a);
    await using b = run("b");
    await b.waitForLine(/campaigning in election/, startupMs);

    // The CLI alone: its command's group is not signalled by anyone but the CLI's watchdog.
    a.kill("SIGKILL");
    const killedAt = performance.now();
    expect(groupA, "a printed no command group").toBeDefined();
    // Gone before the server could elect anyone else: well within the lease's TTL.
    while (liveMembers(groupA ?? 0) > 0 && performance.now() - killedAt < ttlMs) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const goneAfterMs = performance.now() - killedAt;
    expect(goneAfterMs).toBeLessThan(ttlMs);
    await b.waitForLine(/started sh/, ttlMs + startupMs);
    // b's command writes for a while: a's must not write a line after b's first.
    const seen = () => lines().filter((line) => line.startsWith("b ")).length;
    while (seen() < 25) await new Promise((resolve) => setTimeout(resolve, 20));
    const written = lines();
    const firstOfB = written.findIndex((line) => line.startsWith("b "));
    const lastOfA = written.findLastIndex((line) => line.startsWith("a "));
    expect(lastOfA, "a wrote nothing").toBeGreaterThanOrEqual(0);
    expect(lastOfA, "a's command wrote after b's command started").toBeLessThan(firstOfB);
    expect(liveMembers(groupA ?? 0)).toBe(0);
  });
});

/** The process groups of the commands that `cli` started: it logs "started sh (pid N)". */
function commandGroups(cli: SpawnedProcess): number[] {
  return [...cli.output("stderr").matchAll(/started \S+ \(pid (\d+)\)/g)].map((match) =>
    Number(match[1]),
  );
}

function killGroup(group: number): void {
  try {
    process.kill(-group, "SIGKILL");
  } catch {
    // Gone already.
  }
}

/**
 * How many processes of process group `group` still run. Killed ones count no more: they
 * stay zombies until init reaps them, which takes its own time.
 */
function liveMembers(group: number): number {
  let live = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === group && state !== "Z" && state !== "X") live++;
    } catch {
      // Gone meanwhile.
    }
  }
  return live;
}
