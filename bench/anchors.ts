// The peers that the handoff benchmarks measure in the same run, on the same server: etcd's
// Go `concurrency.Election` and Curator's `LeaderLatch`, and the floors of their clients (a
// delete seen by a watch on a second client or session). Each is built from Debian's
// packages on first use, into .cache/anchors, and run as a process of its own:
//   etcd       golang-go + golang-etcd-server-dev, in GOPATH mode (no module download)
//   ZooKeeper  default-jdk + libcurator-recipes-java (Curator, ZooKeeper, their jars)
// A missing toolchain is said once, and that peer's rows are left out.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const cache = fileURLToPath(new URL("../.cache/anchors/", import.meta.url));
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const goSource = here("anchors/etcd-go/main.go");
const javaSource = here("anchors/zookeeper-java/LatchAnchor.java");
const gocode = "/usr/share/gocode";
const javaClasspath = "/usr/share/java/*";

/** What one anchor process measured. */
export interface AnchorResult {
  /** `etcd Go concurrency.Election`, `floor (Go client)`, `Curator LeaderLatch`, … */
  readonly peer: string;
  /** Handoff or floor times, in milliseconds. */
  readonly samples: number[];
}

function newer(target: string, source: string): boolean {
  return existsSync(target) && statSync(target).mtimeMs >= statSync(source).mtimeMs;
}

/**
 * Runs a command to its end and resolves with its output. Asynchronous on purpose: a blocked
 * event loop would let the sessions that the benchmark holds open meanwhile expire.
 */
function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
): Promise<string> {
  const child = spawn(command, args, {
    ...(cwd === undefined ? {} : { cwd }),
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else {
        const stderr = Buffer.concat(err).toString("utf8");
        reject(new Error(`${command} ${args.join(" ")} failed (${code}): ${stderr}`));
      }
    });
  });
}

/** Builds the Go anchor; undefined (and why, once) when the toolchain is missing. */
async function goAnchor(): Promise<string | undefined> {
  const binary = `${cache}etcd-anchor`;
  if (newer(binary, goSource)) return binary;
  if (!existsSync(`${gocode}/src/go.etcd.io/etcd/clientv3/concurrency`)) {
    console.log("(etcd Go anchor left out: apt-get install golang-go golang-etcd-server-dev)");
    return undefined;
  }
  mkdirSync(cache, { recursive: true });
  console.log("building the etcd Go anchor (GOPATH mode, Debian's etcd sources)…");
  // GOPATH mode builds a directory by relative path only.
  await run(
    "go",
    ["build", "-o", binary, "."],
    { GO111MODULE: "off", GOPATH: `${cache}gopath:${gocode}` },
    here("anchors/etcd-go"),
  );
  return binary;
}

/** Compiles the Java anchor; undefined (and why, once) when the toolchain is missing. */
async function javaAnchor(): Promise<string | undefined> {
  const classes = `${cache}java/`;
  if (newer(`${classes}LatchAnchor.class`, javaSource)) return classes;
  if (!existsSync("/usr/share/java/curator-recipes.jar")) {
    console.log("(Curator anchor left out: apt-get install default-jdk libcurator-recipes-java)");
    return undefined;
  }
  mkdirSync(classes, { recursive: true });
  console.log("compiling the Curator anchor…");
  await run("javac", ["-d", classes, "-cp", javaClasspath, javaSource]);
  return classes;
}

function parse(stdout: string): AnchorResult {
  const { peer, samples } = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as AnchorResult;
  return { peer, samples };
}

/** What the etcd anchors measured for one kind of waiter. */
export interface EtcdAnchorResults {
  /** The Go client's floor: a delete seen by a watch on a second client. */
  readonly floor: AnchorResult;
  /** etcd's Go `concurrency.Election`. */
  readonly election: AnchorResult;
}

/**
 * etcd's Go `concurrency.Election` with a settled or fresh waiter, and the Go client's floor
 * in the same state. Settled: the waiter has been in line, or the floor's watch set, for
 * 250 ms (idleness costs every client about a millisecond: docs/etcd-watch-path.md); fresh:
 * the leader resigns, or the floor deletes, as soon as the waiter's key or the watch is there.
 */
export async function etcdAnchors(
  endpoints: readonly string[],
  rounds: number,
): Promise<Map<"settled" | "fresh", EtcdAnchorResults>> {
  const results = new Map<"settled" | "fresh", EtcdAnchorResults>();
  const binary = await goAnchor();
  if (binary === undefined) return results;
  const common = ["-endpoints", endpoints.join(","), "-rounds", String(rounds)];
  for (const waiter of ["settled", "fresh"] as const) {
    const measure = async (mode: string) =>
      parse(await run(binary, [...common, "-mode", mode, "-waiter", waiter]));
    results.set(waiter, { floor: await measure("floor"), election: await measure("election") });
  }
  return results;
}

/**
 * How long `candidates` candidates take to stand in line on one Go client: the floor (a lease
 * and a key on it for each) and etcd's Go `concurrency.Election` (a session and a campaign
 * each), all at once, in milliseconds.
 */
export async function etcdScaleAnchors(
  endpoints: readonly string[],
  candidates: number,
): Promise<AnchorResult[]> {
  const binary = await goAnchor();
  if (binary === undefined) return [];
  const common = ["-endpoints", endpoints.join(","), "-candidates", String(candidates)];
  return [
    parse(await run(binary, [...common, "-mode", "register-floor"])),
    parse(await run(binary, [...common, "-mode", "register"])),
  ];
}

/**
 * Curator's `LeaderLatch` with `waiters` candidates behind the leader, settled or fresh, and
 * the Java client's floor (a delete seen by a data watch on a second session).
 */
export async function zookeeperAnchors(
  connect: string,
  rounds: number,
  waiters: number,
  modes: readonly ("settled" | "fresh")[],
): Promise<Map<"floor" | "settled" | "fresh", AnchorResult>> {
  const results = new Map<"floor" | "settled" | "fresh", AnchorResult>();
  const classes = await javaAnchor();
  if (classes === undefined) return results;
  const java = async (args: string[]) =>
    parse(
      await run("java", ["-cp", `${javaClasspath}:${classes}`, "LatchAnchor", connect, ...args]),
    );
  results.set("floor", await java(["floor", "settled", String(rounds)]));
  for (const mode of modes) {
    results.set(mode, await java(["latch", mode, String(rounds), String(waiters)]));
  }
  return results;
}
