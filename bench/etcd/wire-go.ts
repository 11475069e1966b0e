// The Go client's side of bench/etcd/wire.ts, as a process driven line by line so that its
// rounds interleave with the Node ones: a writer that puts and deletes on command, and a
// watch that reports each delete with its wall-clock time. Built from Debian's
// golang-etcd-server-dev in GOPATH mode (no module download), into .cache/anchors.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const cache = fileURLToPath(new URL("../../.cache/anchors/", import.meta.url));
const source = fileURLToPath(new URL("wire-go/main.go", import.meta.url));
const gocode = "/usr/share/gocode";

/** Wall-clock milliseconds since the epoch, with microseconds: comparable across processes. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The Go writer and watch. */
export interface GoWire {
  /** Puts or deletes `key` on the Go writer; resolves with wall-clock call and answer times. */
  command(verb: "put" | "del", key: string): Promise<{ call: number; answer: number }>;
  /** Calls `listener` with the wall-clock time of each delete the Go watch sees. */
  onDelete(listener: ((key: string, at: number) => void) | undefined): void;
  close(): Promise<void>;
}

function build(binary: string): Promise<void> {
  mkdirSync(cache, { recursive: true });
  const child = spawn("go", ["build", "-o", binary, "."], {
    cwd: fileURLToPath(new URL("wire-go/", import.meta.url)),
    env: { ...process.env, GO111MODULE: "off", GOPATH: `${cache}gopath:${gocode}` },
    stdio: ["ignore", "inherit", "inherit"],
  });
  return new Promise((resolve, reject) =>
    child.once("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`go build failed (${code})`)),
    ),
  );
}

/** Starts the Go process watching `prefix`; undefined (and why) when Go is missing. */
export async function goWire(
  endpoints: readonly string[],
  prefix: string,
): Promise<GoWire | undefined> {
  const binary = `${cache}wire-go`;
  const fresh = existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs;
  if (!fresh) {
    if (!existsSync(`${gocode}/src/go.etcd.io/etcd/clientv3`)) {
      console.log("(Go client left out: apt-get install golang-go golang-etcd-server-dev)");
      return undefined;
    }
    await build(binary);
  }
  const child: ChildProcessWithoutNullStreams = spawn(binary, [
    "-endpoints",
    endpoints.join(","),
    "-prefix",
    prefix,
  ]);
  child.stderr.pipe(process.stderr);
  const answers: ((line: string[]) => void)[] = [];
  let listener: ((key: string, at: number) => void) | undefined;
  let ready: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    const [kind, ...rest] = line.split(" ");
    if (kind === "ready") ready();
    else if (kind === "event") listener?.(rest[0] as string, Number(rest[1]) / 1e6);
    else answers.shift()?.(rest);
  });
  await started;
  return {
    command(verb, key) {
      child.stdin.write(`${verb} ${key}\n`);
      return new Promise((resolve) =>
        answers.push(([call, answer]) =>
          resolve({ call: Number(call) / 1e6, answer: Number(answer) / 1e6 }),
        ),
      );
    },
    onDelete(next) {
      listener = next;
    },
    async close() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.stdin.end();
      await exited;
    },
  };
}
