import { describe, expect, it } from "vitest";
import { ChaosUsageError, parseChaosOptions, profileFaults } from "./options.js";

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) =>
  parseChaosOptions(argv, env, () => 99);

describe("pnpm chaos flags", () => {
  it("runs the short profile on both local backends by default, with a printed random seed", () => {
    expect(parse([])).toMatchObject({
      profile: "short",
      faults: profileFaults.short,
      seed: 99,
      broken: false,
      backends: ["etcd", "zookeeper"],
      candidates: 3,
      kinds: undefined,
    });
  });

  it("takes the profile, fault count, seed, break mode and kinds, in both flag forms", () => {
    expect(parse(["--profile", "long"]).faults).toBe(500);
    expect(
      parse([
        "--profile=long",
        "--faults",
        "7",
        "--seed=12",
        "--break",
        "--kinds",
        "reset,compaction",
      ]),
    ).toMatchObject({
      profile: "long",
      faults: 7,
      seed: 12,
      broken: true,
      kinds: ["reset", "compaction"],
    });
  });

  it("runs on the backend that ELECTOR_URL names", () => {
    expect(parse([], { ELECTOR_URL: "zk://10.0.0.1:2181/app" }).backends).toEqual(["zookeeper"]);
    expect(parse(["--backend", "etcd"], { ELECTOR_URL: "etcds://h:2379" }).backends).toEqual([
      "etcd",
    ]);
  });

  it.each([
    [["--profile", "medium"], '--profile must be short or long, got "medium"'],
    [["--faults", "0"], '--faults must be an integer from 1 to 100000, got "0"'],
    [["--seed", "-1"], '--seed must be an integer from 0 to 4294967295, got "-1"'],
    [["--backend", "consul"], '--backend must be etcd, zookeeper or both, got "consul"'],
    [["--kinds", "pause-candidate,flood"], /--kinds must list fault kinds among .*, got "flood"/],
    [["--fast"], 'unknown flag "--fast"; see --help'],
  ])("refuses %j, naming the flag and the value", (argv, message) => {
    expect(() => parse(argv)).toThrow(ChaosUsageError);
    expect(() => parse(argv)).toThrow(message);
  });

  it("refuses a memory URL and a --backend that disagrees with ELECTOR_URL", () => {
    expect(() => parse([], { ELECTOR_URL: "memory://" })).toThrow(
      /etcd:\/\/, etcds:\/\/ or zk:\/\//,
    );
    expect(() => parse(["--backend", "etcd"], { ELECTOR_URL: "zk://h:2181" })).toThrow(
      "--backend etcd disagrees with ELECTOR_URL, which is zookeeper",
    );
  });
});
