import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { EventLog, type WriterEvent } from "./event-log.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const script = fileURLToPath(new URL("./fenced-writer-main.ts", import.meta.url));

/** `test/integration/fencing/fenced-writer-main.ts` in a child process, run from the sources. */
export class WriterProcess {
  readonly id: string;
  readonly log: EventLog;
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcess;
  readonly #stderr: string[] = [];

  private constructor(id: string, child: ChildProcess) {
    this.id = id;
    this.#child = child;
    this.log = new EventLog(
      `writer ${id}`,
      () => `; stderr: ${this.#stderr.join("").slice(-2000)}`,
    );
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      try {
        this.log.push(JSON.parse(line) as WriterEvent);
      } catch {
        this.#stderr.push(`${line}\n`);
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => this.#stderr.push(chunk.toString()));
    this.exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  }

  /** Starts a writer and waits until its elector exists. */
  static async start(options: {
    url: string;
    election: string;
    id: string;
    ledgerUrl: string;
    tickMs: number;
    stallBeforeWrite?: number;
    startupTimeoutMs: number;
  }): Promise<WriterProcess> {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: root,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: fileURLToPath(new URL("../../../tsconfig.test.json", import.meta.url)),
        ELECTOR_URL: options.url,
        ELECTION: options.election,
        WRITER_ID: options.id,
        LEDGER_URL: options.ledgerUrl,
        TICK_MS: String(options.tickMs),
        STALL_BEFORE_WRITE: String(options.stallBeforeWrite ?? 0),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const writer = new WriterProcess(options.id, child);
    await writer.log.waitFor((event) => event.event === "ready", options.startupTimeoutMs);
    return writer;
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** Whether the kernel has the process stopped (state `T` in /proc). */
  async isStopped(): Promise<boolean> {
    const stat = await readFile(`/proc/${this.pid}/stat`, "utf8");
    // The state follows the parenthesized command name, which may contain spaces.
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("T");
  }

  /** Lets a stopped process run again. */
  thaw(): void {
    this.#child.kill("SIGCONT");
  }

  /** Asks the writer to stop and close its elector; kills it if it does not exit in time. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill("SIGCONT");
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
