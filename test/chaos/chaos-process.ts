import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { EventLog, type ReportedEvent } from "../fixtures/event-log.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const tsconfig = fileURLToPath(new URL("../../tsconfig.test.json", import.meta.url));

/** How a process of the run ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * A process of a chaos run (a candidate or the resource), run from the sources with tsx like
 * `test/fixtures/reporting-process.ts`, plus a stdin for commands: the nemesis freezes, kills
 * or commands it.
 */
export class ChaosProcess {
  readonly name: string;
  readonly log: EventLog;
  readonly exited: Promise<Exit>;
  readonly #child: ChildProcess;
  readonly #stderr: string[] = [];

  constructor(name: string, script: string, env: Record<string, string>) {
    this.name = name;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL(script, import.meta.url))],
      {
        cwd: root,
        env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig, ...env },
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    this.#child = child;
    this.log = new EventLog(name, () => `; stderr: ${this.stderr()}`);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      try {
        this.log.push(JSON.parse(line) as ReportedEvent);
      } catch {
        this.#stderr.push(`${line}\n`);
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      this.#stderr.push(chunk.toString());
      if (this.#stderr.length > 200) this.#stderr.splice(0, 100);
    });
    // A child that died leaves a closed pipe: a command to it is lost, not a crash of ours.
    child.stdin?.on("error", () => {});
    this.exited = new Promise((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The end of what the process wrote on stderr. */
  stderr(): string {
    return this.#stderr.join("").slice(-2000);
  }

  /** Sends one command line on stdin. */
  send(command: string): void {
    if (this.running) this.#child.stdin?.write(`${command}\n`);
  }

  freeze(): void {
    this.#child.kill("SIGSTOP");
  }

  thaw(): void {
    this.#child.kill("SIGCONT");
  }

  async kill(): Promise<Exit> {
    this.#child.kill("SIGKILL");
    return this.exited;
  }

  /** SIGTERM (it closes its elector and exits); SIGKILL after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<Exit> {
    if (!this.running) return this.exited;
    this.#child.kill("SIGCONT");
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}
