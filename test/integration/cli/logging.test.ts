// elector's log through a real pino logger, against an etcd that asks for a password: the
// elector binds its election and candidate id with child(), and no line, of the library or
// of the CLI, ever holds the password.
import { Writable } from "node:stream";
import { createElector } from "@elector/core";
import { EtcdContainer, type StartedEtcdContainer } from "@elector/testing";
import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { startedForSuite } from "../../support/suite-servers.js";
import { runCli } from "./spawned-process.js";

const password = "s3cret-Pa55word";
/** Starting a CLI from source under tsx on a busy machine. */
const startupMs = 15_000;

/** A pino destination that keeps every line. */
class Lines extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    done();
  }
}

describe("logging through pino on an etcd with a password", () => {
  const etcd = startedForSuite<StartedEtcdContainer>("etcd with auth", {
    start: async () => {
      const started = await new EtcdContainer().start();
      for (const command of [
        ["etcdctl", "user", "add", "root", `--new-user-password=${password}`],
        ["etcdctl", "auth", "enable"],
      ]) {
        const { exitCode, output } = await started.exec(command);
        if (exitCode !== 0) throw new Error(`${command.join(" ")} failed: ${output}`);
      }
      return started;
    },
    stop: (started) => started.remove(),
    servers: (started) => [started],
  });
  const address = () => `${etcd().getHost()}:${etcd().getClientPort()}`;

  it("binds election and id with child(), and logs a term at trace level without the password", async () => {
    const out = new Lines();
    const logger = pino({ level: "trace" }, out);
    const child = vi.spyOn(logger, "child");
    const election = `pino-${process.pid}`;
    await using elector = await createElector(`etcd://root:${password}@${address()}?ttl=2`, {
      election,
      id: "logged",
      logger,
    });
    const leadership = await elector.campaign();
    await leadership.resign();
    // A wrong password too: its failure is logged, and must not carry the right one either.
    await using wrong = await createElector(`etcd://root:not-${password}@${address()}?ttl=2`, {
      election,
      id: "refused",
      logger,
    });
    await expect(wrong.campaign()).rejects.toThrow(/authentication failed/);
    await elector.close();
    await wrong.close();

    expect(child).toHaveBeenCalledWith(expect.objectContaining({ election, id: "logged" }));
    expect(child).toHaveBeenCalledWith(expect.objectContaining({ election, id: "refused" }));
    const lines = out.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: "elected", election, id: "logged", backend: "etcd" }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: "creating elector",
        config: expect.objectContaining({ auth: { username: "root", password: "[redacted]" } }),
      }),
    );
    expect(lines.filter((line) => line.level === 10 || line.level === 20).length).toBeGreaterThan(
      0,
    );
    for (const line of out.lines) expect(line).not.toContain(password);
  });

  it("the CLI writes JSON lines on stderr at --log-level trace, none with the password", async () => {
    const url = `etcd://root:${password}@${address()}`;
    const election = ["--election", `pino-cli-${process.pid}`];
    const ran = await runCli(
      ["run", "--url", url, ...election, "--ttl", "2", "--log-level", "trace", "--", "true"],
      startupMs,
    );
    expect(ran.exit.code).toBe(0);
    const lines = ran.stderr.split("\n").filter(Boolean);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed).toContainEqual(
      expect.objectContaining({ level: "info", msg: "elected", id: expect.any(String) }),
    );
    expect(parsed.some((line) => line.level === "trace" || line.level === "debug")).toBe(true);
    expect(ran.stderr).not.toContain(password);

    // A wrong password: the failure is one plain line, without either password.
    const refused = await runCli(
      [
        "leader",
        "--url",
        `etcd://root:wrong-${password}@${address()}`,
        ...election,
        "--log-level",
        "trace",
      ],
      startupMs,
    );
    expect(refused.exit.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^elector: error: cannot reach etcd at .*authentication failed/m,
    );
    expect(refused.stderr).not.toContain(password);
  });
});
