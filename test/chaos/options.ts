// `pnpm chaos` flags: parsed without a library, each failure naming the flag and the value.
import { type FaultKind, faultKinds } from "./faults.js";
import type { Backend } from "./servers.js";

export interface ChaosOptions {
  readonly help: boolean;
  readonly profile: "short" | "long";
  readonly faults: number;
  readonly seed: number;
  readonly broken: boolean;
  readonly backends: readonly Backend[];
  readonly candidates: number;
  readonly ledgerDir: string;
  /** The fault kinds to draw from; undefined for every kind the servers allow. */
  readonly kinds: readonly FaultKind[] | undefined;
}

/** Faults per backend of each profile. */
export const profileFaults = { short: 40, long: 500 } as const;

export const usage = `Usage: pnpm chaos [flags]

Runs a fault campaign against leader election: candidate processes contend through the
public API and write to a fenced resource, while a seeded nemesis injects one fault at a
time; a checker then reads the ledger. The last line is "violations: N"; the exit status is
1 when N > 0, 2 on a bad flag or a setup failure.

Servers: local containers of @elector/testing (an etcd cluster and a ZooKeeper ensemble of
three members each), or your own with ELECTOR_URL (etcd://… or zk://…; only client-side
faults then, and the run's keys live under <your path>/chaos-<run>).

Flags:
  --profile short|long   short: ${profileFaults.short} faults per backend (CI); long: ${profileFaults.long}. Default short.
  --faults N             faults per backend, instead of the profile's.
  --seed S               seed of the fault schedule (an integer); default: a random one,
                         printed so that the schedule can be replayed.
  --backend B            etcd, zookeeper or both (default both; ELECTOR_URL's with it).
  --candidates N         candidate processes per backend, 2 to 9 (default 3).
  --kinds K,K…           draw only these fault kinds: ${faultKinds.join(", ")}.
  --break                run broken candidates (they ignore their signal after a loss and
                         write unfenced): the checker must report violations.
  --ledger-dir DIR       where the JSON-lines ledgers go (default .cache/chaos).
  --help                 this text.
`;

/** A flag that is wrong: the message names it and the value. */
export class ChaosUsageError extends Error {
  override readonly name = "ChaosUsageError";
}

export function parseChaosOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  randomSeed: () => number = () => Math.floor(Math.random() * 2 ** 31),
): ChaosOptions {
  let help = false;
  let profile: "short" | "long" = "short";
  let faults: number | undefined;
  let seed: number | undefined;
  let broken = false;
  let backend: string | undefined;
  let candidates = 3;
  let ledgerDir = ".cache/chaos";
  let kinds: FaultKind[] | undefined;
  const args = [...argv];
  const integer = (flag: string, value: string | undefined, min: number, max: number) => {
    const parsed = Number(value);
    if (value === undefined || !/^\d+$/.test(value) || parsed < min || parsed > max) {
      throw new ChaosUsageError(
        `${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(value ?? "")}`,
      );
    }
    return parsed;
  };
  while (args.length > 0) {
    const arg = args.shift() as string;
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => inline ?? args.shift();
    switch (flag) {
      case "--help":
      case "-h":
        help = true;
        break;
      case "--profile": {
        const chosen = value();
        if (chosen !== "short" && chosen !== "long") {
          throw new ChaosUsageError(
            `--profile must be short or long, got ${JSON.stringify(chosen ?? "")}`,
          );
        }
        profile = chosen;
        break;
      }
      case "--faults":
        faults = integer("--faults", value(), 1, 100_000);
        break;
      case "--seed":
        seed = integer("--seed", value(), 0, 2 ** 32 - 1);
        break;
      case "--break":
        broken = true;
        break;
      case "--backend":
        backend = value();
        if (backend !== "etcd" && backend !== "zookeeper" && backend !== "both") {
          throw new ChaosUsageError(
            `--backend must be etcd, zookeeper or both, got ${JSON.stringify(backend ?? "")}`,
          );
        }
        break;
      case "--candidates":
        candidates = integer("--candidates", value(), 2, 9);
        break;
      case "--ledger-dir": {
        const dir = value();
        if (dir === undefined || dir === "")
          throw new ChaosUsageError("--ledger-dir needs a directory");
        ledgerDir = dir;
        break;
      }
      case "--kinds": {
        const list = (value() ?? "").split(",").filter(Boolean);
        const unknown = list.filter((kind) => !(faultKinds as readonly string[]).includes(kind));
        if (list.length === 0 || unknown.length > 0) {
          throw new ChaosUsageError(
            `--kinds must list fault kinds among ${faultKinds.join(", ")}, got ${JSON.stringify(unknown.join(",") || "")}`,
          );
        }
        kinds = list as FaultKind[];
        break;
      }
      default:
        throw new ChaosUsageError(`unknown flag ${JSON.stringify(arg)}; see --help`);
    }
  }
  const url = env.ELECTOR_URL;
  let backends: Backend[];
  if (url !== undefined && url !== "") {
    const scheme = /^([a-z]+):\/\//i.exec(url)?.[1]?.toLowerCase();
    const own: Backend | undefined =
      scheme === "zk" ? "zookeeper" : scheme === "etcd" || scheme === "etcds" ? "etcd" : undefined;
    if (own === undefined) {
      throw new ChaosUsageError(
        "ELECTOR_URL must be an etcd://, etcds:// or zk:// URL for the chaos campaign",
      );
    }
    if (backend !== undefined && backend !== "both" && backend !== own) {
      throw new ChaosUsageError(`--backend ${backend} disagrees with ELECTOR_URL, which is ${own}`);
    }
    backends = [own];
  } else {
    backends =
      backend === undefined || backend === "both" ? ["etcd", "zookeeper"] : [backend as Backend];
  }
  return {
    help,
    profile,
    faults: faults ?? profileFaults[profile],
    seed: seed ?? randomSeed(),
    broken,
    backends,
    candidates,
    ledgerDir,
    kinds,
  };
}
