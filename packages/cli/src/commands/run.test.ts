import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMemoryElector, type Elector, type MemoryElector } from "@elector/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeIo } from "../../test/fake-io.js";
import { main } from "../main.js";

const ttlMs = 600;
let namespace = 0;
let directory: string;
/** Ends what a failed test left running: its command and its `elector run`. */
let cleanups: (() => Promise<void>)[] = [];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "elector-cli-"));
  namespace++;
});
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
  rmSync(directory, { recursive: true, force: true });
});

/** The memory namespace of this test: the CLI's electors and the test's share it. */
const memoryName = () => `cli-run-${process.pid}-${namespace}`;

/** A fake CLI environment whose electors are memory electors the test can inject faults into. */
function setup() {
  const electors: MemoryElector[] = [];
  const out = join(directory, "out");
  const io = fakeIo({
    env: { PATH: process.env.PATH, OUT: out, GO: join(directory, "go") },
    createElector: async (config, options) => {
      if (typeof config === "string" || config.backend !== "memory") throw new Error("memory only");
      const elector = createMemoryElector({
        ...options,
        name: config.name ?? "default",
        ...(config.ttlMs === undefined ? {} : { ttlMs: config.ttlMs }),
      });
      electors.push(elector);
      return elector;
    },
  });
  const lines = () =>
    existsSync(out) ? readFileSync(out, "utf8").split("\n").filter(Boolean) : [];
  const competitor = () =>
    createMemoryElector({ election: "jobs", id: "other", name: memoryName(), ttlMs });
  const release = () => writeFileSync(join(directory, "go"), "");
  /** Runs `elector <argv>`; a test that fails midway leaves nothing running. */
  const start = (argv: string[]) => {
    const running = main(argv, io);
    cleanups.push(async () => {
      release();
      io.signals.emit("SIGTERM", "SIGTERM");
      await running;
    });
    return running;
  };
  /** Resolves once the command has written `count` lines starting with "started". */
  const started = (count = 1) =>
    waitUntil(() => lines().filter((line) => line.startsWith("started")).length >= count, 5_000);
  return { io, electors, lines, competitor, release, start, started };
}

const flags = (...extra: string[]) => [
  "run",
  "--url",
  `memory://${memoryName()}?ttlMs=${ttlMs}`,
  "--election",
  "jobs",
  "--id",
  "me",
  "--allow-memory",
  ...extra,
];

// A command that records its environment, and on SIGTERM records it and exits with 5. It
// says "started" only once it knows its sleep's pid, so that SIGTERM never orphans the sleep.
// The group's SIGTERM often reaches the sleep first: the trap's kill then has nothing to kill.
const recorder = [
  "sh",
  "-c",
  'trap \'kill $pid 2>/dev/null; echo term >> "$OUT"; exit 5\' TERM; sleep 1000 & pid=$!; echo "started $ELECTOR_FENCING_TOKEN $ELECTOR_LEADER_ID $ELECTOR_ELECTION" >> "$OUT"; wait $pid 2>/dev/null',
];

describe("elector run's log", () => {
  it("is JSON lines on stderr, with the level's name, the time and elector's own bindings", async () => {
    const { io } = setup();
    expect(await main(flags("--", "true"), io)).toBe(0);
    const lines = io.stderr.lines.map((line) => JSON.parse(line));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).toMatchObject({
        name: "elector",
        time: expect.any(String),
        msg: expect.any(String),
      });
      expect(["debug", "info", "warn", "error"]).toContain(line.level);
    }
    expect(lines).toContainEqual(
      expect.objectContaining({ level: "info", msg: "elected", election: "jobs", id: "me" }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ level: "info", msg: "true exited with code 0; resigning" }),
    );
  });

  it("keeps to --log-level, and --quiet is --log-level warn", async () => {
    const { io } = setup();
    expect(await main(flags("--log-level", "warn", "--", "true"), io)).toBe(0);
    expect(io.stderr.lines.map((line) => JSON.parse(line).level)).toEqual(["warn"]);
    const quiet = setup();
    expect(await main(flags("--quiet", "--", "true"), quiet.io)).toBe(0);
    expect(quiet.io.stderr.lines.map((line) => JSON.parse(line).level)).toEqual(["warn"]);
    const debug = setup();
    expect(await main(flags("--log-level", "debug", "--", "true"), debug.io)).toBe(0);
    expect(debug.io.stderr.text).toContain('"level":"debug"');
  });

  it("refuses an unknown level, or --quiet with --log-level, with exit code 2", async () => {
    const { io } = setup();
    expect(await main(flags("--log-level", "loud", "--", "true"), io)).toBe(2);
    expect(io.stderr.text).toBe(
      'elector: error: --log-level must be one of trace, debug, info, warn, error, fatal, silent, got "loud" (see: elector run --help)\n',
    );
    const both = setup();
    expect(await main(flags("--quiet", "--log-level", "info", "--", "true"), both.io)).toBe(2);
  });
});

describe("elector run", () => {
  it("passes the fencing token, leader id and election to the command, and exits with its code when it exits by itself", async () => {
    const { io, lines, competitor } = setup();
    const code = await main(
      flags(
        "--",
        "sh",
        "-c",
        'echo "$ELECTOR_FENCING_TOKEN $ELECTOR_LEADER_ID $ELECTOR_ELECTION" > "$OUT"; exit 3',
      ),
      io,
    );
    expect(code).toBe(3);
    expect(lines()).toEqual([expect.stringMatching(/^\d+ me jobs$/)]);
    // It resigned: nobody leads any more.
    await using observer = competitor();
    expect(await observer.leader()).toBeUndefined();
  });

  it("sends SIGTERM to the command when leadership is lost, and with --once exits with the command's code", async () => {
    const { io, electors, lines, start, started } = setup();
    const running = start(flags("--once", "--", ...recorder));
    // Signals must reach the command's trap, not its startup.
    await started();
    electors[0]?.faults.expireSession();
    expect(await running).toBe(5);
    expect(lines()).toEqual([expect.stringMatching(/^started \d+ me jobs$/), "term"]);
    // The elector's own line, with the bindings of its logger.
    expect(io.stderr.lines.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({
        level: "warn",
        msg: "leadership ended",
        reason: "lease-expired",
        election: "jobs",
        id: "me",
        backend: "memory",
      }),
    );
  });

  it("sends SIGKILL when the command outlives the grace period after SIGTERM", async () => {
    const { io, electors, lines, start, started } = setup();
    const graceMs = 300;
    const ignoresTerm = [
      process.execPath,
      "-e",
      "process.on('SIGTERM', () => require('node:fs').appendFileSync(process.env.OUT, 'term\\n')); require('node:fs').appendFileSync(process.env.OUT, 'started\\n'); setInterval(() => {}, 60000);",
    ];
    const running = start(flags("--once", "--grace", `${graceMs}ms`, "--", ...ignoresTerm));
    await started();
    const lostAt = performance.now();
    electors[0]?.faults.expireSession();
    expect(await running).toBe(137);
    expect(performance.now() - lostAt).toBeGreaterThanOrEqual(graceMs);
    expect(lines()).toEqual(["started", "term"]);
    expect(io.stderr.text).toMatch(/ended by SIGKILL/);
  });

  it("campaigns again after a loss and runs the command again in a term with a greater token", async () => {
    const { io, electors, lines, start, started } = setup();
    const running = start(flags("--", ...recorder));
    await started();
    electors[0]?.faults.expireSession();
    await started(2);
    io.signals.emit("SIGTERM", "SIGTERM");
    expect(await running).toBe(5);
    const tokens = lines()
      .filter((line) => line.startsWith("started"))
      .map((line) => BigInt(line.split(" ")[1] ?? "0"));
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).toBeGreaterThan(tokens[0] ?? 0n);
  });

  it("forwards SIGTERM to the command and resigns only after the command exited", async () => {
    const { io, lines, competitor, release, start, started } = setup();
    const slowToStop = [
      "sh",
      "-c",
      'trap \'kill $pid 2>/dev/null; echo term >> "$OUT"; while [ ! -e "$GO" ]; do sleep 0.02; done; exit 7\' TERM; sleep 1000 & pid=$!; echo started >> "$OUT"; wait $pid 2>/dev/null',
    ];
    const running = start(flags("--", ...slowToStop));
    await started();
    io.signals.emit("SIGTERM", "SIGTERM");
    await io.stderr.waitFor(/SIGTERM received: forwarding it to the command/, 1_000);
    await waitUntil(() => lines().includes("term"), 5_000);
    await using observer = competitor();
    // The command is still stopping: this process must still lead.
    expect((await observer.leader())?.id).toBe("me");
    release();
    expect(await running).toBe(7);
    expect(await observer.leader()).toBeUndefined();
  });

  it("never starts the command while another candidate leads, and a stop signal then ends it with 128 + n", async () => {
    const { io, lines, competitor, start } = setup();
    await using other = competitor();
    await other.campaign();
    const running = start(flags("--", ...recorder));
    await io.stderr.waitFor(/campaigning in election jobs /, 5_000);
    io.signals.emit("SIGINT", "SIGINT");
    expect(await running).toBe(130);
    expect(lines()).toEqual([]);
    expect((await other.leader())?.id).toBe("other");
  });

  it("ends what the command started too: SIGKILL after the grace period goes to its process group", async () => {
    const { electors, lines, start, started } = setup();
    // The shell and its background child both ignore SIGTERM.
    const stubborn = ["sh", "-c", 'trap "" TERM; sleep 1000 & echo "started $!" >> "$OUT"; wait'];
    const running = start(flags("--once", "--grace", "200ms", "--", ...stubborn));
    await started();
    const grandchild = Number(lines()[0]?.split(" ")[1]);
    electors[0]?.faults.expireSession();
    expect(await running).toBe(137);
    await waitUntil(() => !isRunning(grandchild), 2_000);
  });

  it("kills what the command left running when it exits by itself, before resigning", async () => {
    const { io, lines } = setup();
    const leaver = ["sh", "-c", 'sleep 1000 & echo "started $!" >> "$OUT"; exit 0'];
    expect(await main(flags("--", ...leaver), io)).toBe(0);
    const grandchild = Number(lines()[0]?.split(" ")[1]);
    expect(grandchild).toBeGreaterThan(0);
    await waitUntil(() => !isRunning(grandchild), 2_000);
  });

  it("refuses a command that does not exist with 127 before campaigning, and says nothing of it starting", async () => {
    const { io, electors } = setup();
    const missing = join(directory, "no-such-command");
    expect(await main(flags("--", missing), io)).toBe(127);
    expect(io.stderr.text).toBe(`elector: error: command not found: ${missing} does not exist\n`);
    expect(electors).toEqual([]);
    expect(await main(flags("--", "no-such-command-anywhere"), io)).toBe(127);
    expect(io.stderr.lines[1]).toBe(
      'elector: error: command not found: "no-such-command-anywhere" is in no directory of PATH',
    );
  });

  it("refuses a command that is not executable with 126 before campaigning", async () => {
    const { io, electors } = setup();
    const plain = join(directory, "plain-file");
    writeFileSync(plain, "echo hi\n", { mode: 0o644 });
    expect(await main(flags("--", plain), io)).toBe(126);
    expect(io.stderr.text).toBe(`elector: error: cannot run ${plain}: it is not executable\n`);
    expect(electors).toEqual([]);
  });

  it("stands its watchdog down once the command has exited, leaving no process behind", async () => {
    const { io } = setup();
    expect(await main(flags("--", "sh", "-c", "exit 0"), io)).toBe(0);
    const pid = commandPid(io.stderr.text);
    await waitUntil(() => watchdogOf(pid) === undefined, 2_000);
  });

  it("stops the command and exits 1 when its watchdog is killed, since elector's death would then orphan it", async () => {
    const { io, lines, start, started } = setup();
    const running = start(flags("--", ...recorder));
    await started();
    const watchdog = watchdogOf(commandPid(io.stderr.text));
    expect(watchdog, "no watchdog runs for the command").toBeDefined();
    process.kill(watchdog ?? 0, "SIGKILL");
    expect(await running).toBe(1);
    expect(lines()).toContain("term");
    expect(io.stderr.text).toContain("the watchdog of sh ended; stopping sh, and elector with it");
  });

  it("starts the command on the waiting candidate once the leader resigns", async () => {
    const { io, lines, competitor, start, started } = setup();
    const other: Elector = competitor();
    const leadership = await other.campaign();
    const running = start(flags("--once", "--", ...recorder));
    await io.stderr.waitFor(/campaigning/, 5_000);
    expect(lines()).toEqual([]);
    await leadership.resign();
    await started();
    io.signals.emit("SIGTERM", "SIGTERM");
    expect(await running).toBe(5);
    expect(BigInt(lines()[0]?.split(" ")[1] ?? "0")).toBeGreaterThan(leadership.token);
    await other.close();
  });
});

/** The pid of the command that `elector run` logged as started. */
function commandPid(stderr: string): number {
  const pid = Number(/"commandPid":(\d+)/.exec(stderr)?.[1]);
  expect(pid).toBeGreaterThan(0);
  return pid;
}

/** The live watchdog of the command group `group`, found by its command line. */
function watchdogOf(group: number): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (
        argv.includes("elector-watchdog") &&
        argv.includes(String(group)) &&
        isRunning(Number(entry))
      )
        return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

/** Whether `pid` is a live process (a zombie, killed and not yet reaped, is not). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** Polls `condition` until it holds; rejects after `timeoutMs`. */
async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
