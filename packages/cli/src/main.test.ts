import { createMemoryElector } from "@elector/core";
import { describe, expect, it } from "vitest";
import { fakeIo } from "../test/fake-io.js";
import { main } from "./main.js";

const url = (name: string) => `memory://cli-main-${process.pid}-${name}`;

describe("elector's arguments", () => {
  it.each(["run", "leader", "observe", "participants"])(
    "prints the help of %s on --help and exits 0, without connecting",
    async (command) => {
      const io = fakeIo({
        createElector: () => Promise.reject(new Error("must not connect")),
      });
      expect(await main([command, "--help"], io)).toBe(0);
      expect(io.stdout.text).toMatch(new RegExp(`^Usage: elector ${command} `));
      expect(io.stderr.text).toBe("");
    },
  );

  it("prints the overview on --help and on help, and usage with exit 2 without a command", async () => {
    const help = fakeIo();
    expect(await main(["--help"], help)).toBe(0);
    expect(help.stdout.text).toContain("Commands:");
    const topic = fakeIo();
    expect(await main(["help", "observe"], topic)).toBe(0);
    expect(topic.stdout.text).toMatch(/^Usage: elector observe/);
    const none = fakeIo();
    expect(await main([], none)).toBe(2);
    expect(none.stderr.text).toContain("Commands:");
  });

  it.each([
    [["leader", "--url", "memory://", "--election", "e", "--bogus"], /unknown flag --bogus/],
    [["observe", "--url", "memory://", "--election", "e", "-x"], /unknown flag -x/],
    [["run", "--url", "memory://", "--election", "e", "--ttl"], /--ttl needs a value/],
    [["leader", "--url", "memory://", "--election", "e", "extra"], /unexpected argument "extra"/],
    [["run", "--url", "memory://", "--election", "e", "sleep", "1"], /put the command after --/],
    [["run", "--url", "memory://", "--election", "e", "--"], /no command given/],
    [["leader", "--election", "e"], /--url is required \(or set ELECTOR_URL\)/],
    [["leader", "--url", "memory://"], /--election is required/],
    [
      ["leader", "--url", "mysql://db", "--election", "e"],
      /invalid --url: url must be a URL of the form/,
    ],
    [["leader", "--url", "etcd://h:2379?tll=5", "--election", "e"], /unknown setting "tll"/],
    [["leader", "--url", "memory://", "--election", "a b"], /invalid --election: election must be/],
    [
      ["run", "--url", "etcd://h:2379", "--election", "e", "--ttl", "2.5", "--", "true"],
      /whole number of seconds on etcd/,
    ],
    [
      ["run", "--url", "etcd://h:2379?ttl=5", "--election", "e", "--ttl", "5", "--", "true"],
      /both set the TTL/,
    ],
    [
      ["run", "--url", "etcd://h:2379", "--election", "e", "--ttl", "1", "--", "true"],
      /invalid --ttl: ttlSeconds must be an integer number of seconds from 2 to 3600, got 1/,
    ],
    [
      ["run", "--url", "memory://", "--election", "e", "--grace", "soon", "--", "true"],
      /--grace must be a duration .* got "soon"/,
    ],
    [
      ["observe", "--url", "memory://", "--election", "e", "--connect-timeout", "0"],
      /--connect-timeout must be a duration/,
    ],
    [
      ["elect", "--url", "memory://"],
      /unknown command "elect"; commands: run, leader, observe, participants/,
    ],
  ])("refuses %j with exit code 2 and a message naming the problem", async (argv, message) => {
    const io = fakeIo();
    expect(await main(argv, io)).toBe(2);
    expect(io.stderr.text).toMatch(message);
    expect(io.stderr.text).toMatch(/^elector: error: .*\(see: elector( \w+)? --help\)\n$/);
    expect(io.stdout.text).toBe("");
  });

  it("redacts the password of a URL in its messages", async () => {
    const io = fakeIo();
    expect(
      await main(["leader", "--url", "etcds://root:hunter2@h:2379?bogus=1", "--election", "e"], io),
    ).toBe(2);
    expect(io.stderr.text).toContain("root:[redacted]@");
    expect(io.stderr.text).not.toContain("hunter2");
  });

  it("takes the URL from ELECTOR_URL when --url is not given", async () => {
    const io = fakeIo({ env: { ELECTOR_URL: url("env") } });
    expect(await main(["leader", "--election", "e"], io)).toBe(0);
    expect(io.stdout.text).toBe("(no leader)\n");
  });

  it("gives up on a server that does not answer after --connect-timeout, with exit code 1", async () => {
    const io = fakeIo({
      // A backend whose connection never comes up.
      createElector: () => new Promise(() => {}),
    });
    const timeoutMs = 200;
    const started = performance.now();
    const code = await main(
      [
        "leader",
        "--url",
        "etcd://10.0.0.1:2379",
        "--election",
        "e",
        "--connect-timeout",
        `${timeoutMs}ms`,
      ],
      io,
    );
    expect(code).toBe(1);
    expect(performance.now() - started).toBeLessThan(timeoutMs + 1_000);
    expect(io.stderr.text).toBe(
      "elector: error: cannot reach etcd at 10.0.0.1:2379: no answer within 0.2s (--connect-timeout)\n",
    );
  });

  it("reports a read that fails at once with the server's address and the cause", async () => {
    const io = fakeIo({
      createElector: async (_config, options) => {
        const elector = createMemoryElector({ ...options, name: "refused" });
        elector.leader = () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:1"));
        return elector;
      },
    });
    expect(await main(["participants", "--url", "zk://127.0.0.1:1", "--election", "e"], io)).toBe(
      1,
    );
    expect(io.stderr.text).toBe(
      "elector: error: cannot reach ZooKeeper at 127.0.0.1:1: connection refused (ECONNREFUSED)\n",
    );
  });

  it("reports a read that fails after the connection came up, naming the server", async () => {
    const io = fakeIo({
      createElector: async (_config, options) => {
        const elector = createMemoryElector({ ...options, name: "flaky" });
        elector.participants = () => Promise.reject(new Error("etcdserver: request timed out"));
        return elector;
      },
    });
    expect(
      await main(["participants", "--url", "etcd://10.0.0.2:2379", "--election", "e"], io),
    ).toBe(1);
    expect(io.stderr.text).toBe(
      "elector: error: cannot read from etcd at 10.0.0.2:2379: etcdserver: request timed out\n",
    );
  });
});

describe("elector leader, participants and observe", () => {
  it("print the leader and the line, as text and as JSON", async () => {
    const name = url("read");
    const [first, second] = ["first", "second"].map((id) =>
      createMemoryElector({ election: "jobs", id, name: name.slice("memory://".length) }),
    );
    const term = await first?.campaign({ value: "10.0.0.1:8080" });
    const waiting = second?.campaign();
    const target = ["--url", name, "--election", "jobs"];
    try {
      await expect.poll(async () => (await second?.participants())?.length).toBe(2);

      const text = fakeIo();
      expect(await main(["leader", ...target], text)).toBe(0);
      expect(text.stdout.text).toBe(`first token=${term?.token} value="10.0.0.1:8080"\n`);
      const json = fakeIo();
      expect(await main(["leader", ...target, "--json"], json)).toBe(0);
      expect(JSON.parse(json.stdout.text)).toEqual({
        id: "first",
        value: "10.0.0.1:8080",
        token: String(term?.token),
      });

      const line = fakeIo();
      expect(await main(["participants", ...target], line)).toBe(0);
      expect(line.stdout.lines).toEqual([
        `* first token=${term?.token} value="10.0.0.1:8080"`,
        expect.stringMatching(/^ {2}second token=\d+ value="second"$/),
      ]);
      const lineJson = fakeIo();
      expect(await main(["participants", ...target, "--json"], lineJson)).toBe(0);
      expect(JSON.parse(lineJson.stdout.text)).toEqual([
        { id: "first", value: "10.0.0.1:8080", token: String(term?.token), leader: true },
        { id: "second", value: "second", token: expect.any(String), leader: false },
      ]);
    } finally {
      await first?.close();
      await waiting?.catch(() => {});
      await second?.close();
    }
  });

  it("observe prints one line per change until SIGINT, then exits 0", async () => {
    const name = url("observe");
    const elector = createMemoryElector({ election: "jobs", id: "a", name: name.slice(9) });
    const io = fakeIo();
    const observing = main(["observe", "--url", name, "--election", "jobs", "--json"], io);
    try {
      await io.stdout.waitFor(/"leader":null/, 5_000);
      const term = await elector.campaign();
      await io.stdout.waitFor(/"id":"a"/, 5_000);
      await term.proclaim("moved");
      await io.stdout.waitFor(/"value":"moved"/, 5_000);
      await term.resign();
      await io.stdout.waitFor(/"leader":null[\s\S]*"leader":null/, 5_000);
      io.signals.emit("SIGINT", "SIGINT");
      expect(await observing).toBe(0);
      const lines = io.stdout.lines.map(
        (line) => JSON.parse(line) as { time: string; leader: unknown },
      );
      expect(lines.map((line) => line.leader)).toEqual([
        null,
        { id: "a", value: "a", token: String(term.token) },
        { id: "a", value: "moved", token: String(term.token) },
        null,
      ]);
      for (const line of lines) expect(Number.isNaN(Date.parse(line.time))).toBe(false);
    } finally {
      io.signals.emit("SIGINT", "SIGINT");
      await elector.close();
    }
  });

  it("observe prints text lines with the time", async () => {
    const name = url("observe-text");
    const io = fakeIo();
    const observing = main(["observe", "--url", name, "--election", "jobs"], io);
    await io.stdout.waitFor(/\n/, 5_000);
    io.signals.emit("SIGTERM", "SIGTERM");
    expect(await observing).toBe(0);
    expect(io.stdout.text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(no leader\)\n$/);
  });
});
