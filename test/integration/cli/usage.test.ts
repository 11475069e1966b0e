// The elector binary as a user meets it: a real process, its exit codes and messages. No
// server is needed; the unreachable ones are closed ports.
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { runCli } from "./spawned-process.js";

// Starting the CLI from source under tsx on a busy machine: a second or two.
const startupMs = 10_000;

describe("the elector binary", () => {
  it("prints help for itself and for a command, exit code 0", async () => {
    const overview = await runCli(["--help"], startupMs);
    expect(overview.exit).toEqual({ code: 0, signal: null });
    expect(overview.stdout).toMatch(/^Usage: elector <command> \[flags\]/);
    const run = await runCli(["run", "--help"], startupMs);
    expect(run.exit.code).toBe(0);
    expect(run.stdout).toContain("ELECTOR_FENCING_TOKEN");
    expect(run.stderr).toBe("");
  });

  it("refuses an unknown flag with exit code 2, naming the flag", async () => {
    const result = await runCli(
      ["observe", "--url", "memory://", "--election", "e", "--follow"],
      startupMs,
    );
    expect(result.exit.code).toBe(2);
    expect(result.stderr).toBe(
      "elector: error: unknown flag --follow (see: elector observe --help)\n",
    );
  });

  it("refuses a bad URL with exit code 2, naming the URL and the forms it may take", async () => {
    const result = await runCli(
      ["leader", "--url", "etcd//127.0.0.1:2379", "--election", "e"],
      startupMs,
    );
    expect(result.exit.code).toBe(2);
    expect(result.stderr).toMatch(
      /^elector: error: invalid --url: url must be a URL of the form memory:\/\/\[name\], etcd:\/\/host:2379.*got "etcd\/\/127\.0\.0\.1:2379" \(see: elector leader --help\)\n$/,
    );
  });

  it("refuses a negative duration with exit code 2, naming the flag, the value and the range", async () => {
    const result = await runCli(
      ["run", "--url", "etcd://127.0.0.1:2379", "--election", "e", "--ttl", "-5", "--", "true"],
      startupMs,
    );
    expect(result.exit.code).toBe(2);
    expect(result.stderr).toBe(
      'elector: error: --ttl must be a duration from 1ms to 3600s such as 10, 10s or 500ms, got "-5" (see: elector run --help)\n',
    );
  });

  it("refuses run on memory:// without --allow-memory, and warns with it", async () => {
    const refused = await runCli(
      ["run", "--url", "memory://", "--election", "e", "--", "true"],
      startupMs,
    );
    expect(refused.exit.code).toBe(2);
    expect(refused.stderr).toBe(
      "elector: error: --url memory:// elects within this one process only, so every elector run on it leads at once; use etcd:// or zk://, or add --allow-memory to try elector out alone (see: elector run --help)\n",
    );
    const allowed = await runCli(
      ["run", "--url", "memory://", "--election", "e", "--allow-memory", "--", "true"],
      startupMs,
    );
    expect(allowed.exit.code).toBe(0);
    // The warning is the first thing logged, at level warn, before the campaign.
    const [first] = allowed.stderr.split("\n").map((line) => JSON.parse(line || "{}"));
    expect(first).toMatchObject({ level: "warn" });
    expect(first.msg).toMatch(/^memory:\/\/ elects within this process only/);
  });

  it.each([
    ["etcd", "etcd"],
    ["ZooKeeper", "zk"],
  ])(
    "gives up on an unreachable %s server after --connect-timeout, exit code 1",
    async (name, scheme) => {
      const port = await closedPort();
      const timeoutMs = 1_000;
      const result = await runCli(
        [
          "run",
          "--url",
          `${scheme}://127.0.0.1:${port}`,
          "--election",
          "e",
          "--connect-timeout",
          `${timeoutMs}ms`,
          "--",
          "true",
        ],
        timeoutMs + startupMs,
      );
      expect(result.exit.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(`^elector: error: cannot reach ${name} at 127\\.0\\.0\\.1:${port}: `),
      );
      // Bounded: the wait ends at --connect-timeout, or sooner when the backend gives up first.
      expect(result.elapsedMs).toBeLessThan(timeoutMs + startupMs);
    },
  );

  it("waits out a --connect-timeout longer than etcd's 5 s request timeout, and says why in plain words", async () => {
    const port = await closedPort();
    // Twice etcd's request timeout: a single read would have failed within it.
    const timeoutMs = 10_000;
    const target = ["--url", `etcd://127.0.0.1:${port}`, "--election", "e"];
    const flags = [...target, "--connect-timeout", `${timeoutMs / 1_000}s`];
    // Both at once: each command probes the server the same way.
    const [participants, run] = await Promise.all([
      runCli(["participants", ...flags], timeoutMs + startupMs),
      runCli(["run", ...flags, "--", "true"], timeoutMs + startupMs),
    ]);
    for (const result of [participants, run]) {
      expect(result.exit.code).toBe(1);
      expect(result.elapsedMs).toBeGreaterThanOrEqual(timeoutMs);
      // The last error, when a read failed before the deadline, in words; no gRPC text.
      expect(result.stderr).toMatch(
        new RegExp(
          `^elector: error: cannot reach etcd at 127\\.0\\.0\\.1:${port}: no answer within 10s \\(--connect-timeout\\)(; last error: connection refused \\(ECONNREFUSED\\))?\n$`,
        ),
      );
    }
  });
});

/** A port on which nothing listens: one the kernel just handed out and we closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
