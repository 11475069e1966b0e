// A local standalone ZooKeeper server whose in-memory state a test can craft; the server side
// is crafted-zookeeper.java, run with Java's source launcher against Debian's ZooKeeper jars.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";

const source = fileURLToPath(new URL("./crafted-zookeeper.java", import.meta.url));
// Only what a standalone server with the NIO connection factory loads: with all of
// /usr/share/java on the class path, the source launcher takes some 15 s to compile.
const classPath = ["zookeeper", "zookeeper-jute", "slf4j-api", "slf4j-nop", "commons-io"]
  .map((jar) => `/usr/share/java/${jar}.jar`)
  .join(":");
const startupTimeoutMs = 60_000;

/** What to change in the server's JVM. */
export interface CraftedZooKeeperOptions {
  /** The server's `jute.maxbuffer`: the largest packet it reads before dropping the connection. */
  readonly juteMaxBuffer?: number;
}

/** A running {@link CraftedZooKeeper} server. */
export class CraftedZooKeeper implements AsyncDisposable {
  readonly #process: ChildProcessWithoutNullStreams;
  readonly #lines: Interface;
  readonly #dataDir: string;
  readonly #output: string[];
  readonly #answers: string[] = [];
  #waiter: (() => void) | undefined;
  /** `127.0.0.1:<port>`. */
  readonly connectionString: string;

  private constructor(
    process: ChildProcessWithoutNullStreams,
    lines: Interface,
    dataDir: string,
    output: string[],
    port: number,
  ) {
    this.#process = process;
    this.#lines = lines;
    this.#dataDir = dataDir;
    this.#output = output;
    this.connectionString = `127.0.0.1:${port}`;
    lines.on("line", (line) => {
      this.#answers.push(line);
      this.#waiter?.();
    });
  }

  /** Starts a server on a fresh data directory and waits until it listens. */
  static async start(options: CraftedZooKeeperOptions = {}): Promise<CraftedZooKeeper> {
    const dataDir = await mkdtemp(join(tmpdir(), "elector-crafted-zk-"));
    const flags = [
      // The digest is a checksum of the tree that assumes every change went through a
      // transaction; ours does not.
      "-Dzookeeper.digest.enabled=false",
      "-Dzookeeper.admin.enableServer=false",
      ...(options.juteMaxBuffer === undefined ? [] : [`-Djute.maxbuffer=${options.juteMaxBuffer}`]),
      // Two cores, many JVMs: start fast, stay small.
      "-XX:TieredStopAtLevel=1",
      "-XX:+UseSerialGC",
      "-Xmx128m",
    ];
    const child = spawn("java", [...flags, "-cp", classPath, source, dataDir]);
    const output: string[] = [];
    child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
    const lines = createInterface({ input: child.stdout });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`the crafted ZooKeeper did not start within ${startupTimeoutMs} ms`)),
          startupTimeoutMs,
        );
        child.once("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`the crafted ZooKeeper exited with ${code}: ${output.join("")}`));
        });
        child.once("error", (error) => {
          clearTimeout(timer);
          reject(error);
        });
        lines.once("line", (line) => {
          clearTimeout(timer);
          const port = /^port (\d+)$/.exec(line)?.[1];
          if (port === undefined)
            reject(new Error(`unexpected first line ${JSON.stringify(line)}`));
          else resolve(Number(port));
        });
      });
      return new CraftedZooKeeper(child, lines, dataDir, output, port);
    } catch (error) {
      child.kill("SIGKILL");
      await rm(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Sets the child version of `path` (what names its next sequential child) in the server's
   * memory.
   */
  async setChildVersion(path: string, cversion: number): Promise<void> {
    const answer = await this.#command(`cversion ${path} ${cversion}`);
    if (answer !== "ok") throw new Error(`cversion ${path} ${cversion}: ${answer}`);
  }

  /** What the server wrote to stderr, for a failure's message. */
  get log(): string {
    return this.#output.join("");
  }

  async #command(command: string): Promise<string> {
    this.#process.stdin.write(`${command}\n`);
    for (;;) {
      const answer = this.#answers.shift();
      if (answer !== undefined) return answer;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to ${command}`)), 10_000);
        this.#waiter = () => {
          clearTimeout(timer);
          this.#waiter = undefined;
          resolve();
        };
      });
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.#process.exitCode !== null || this.#process.signalCode !== null) resolve();
      else this.#process.once("exit", () => resolve());
    });
    this.#lines.close();
    this.#process.kill("SIGKILL");
    await exited;
    await rm(this.#dataDir, { recursive: true, force: true });
  }
}
