import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The repository's root. */
export const root = fileURLToPath(new URL("../../..", import.meta.url));

/** The environment that makes tsx resolve `@elector/*` to the packages' sources. */
export const sourceEnv = { TSX_TSCONFIG_PATH: `${root}tsconfig.test.json` };

/** One line a process wrote, with when the test received it. */
export interface Line {
  readonly stream: "stdout" | "stderr";
  readonly text: string;
  /** `performance.now()` of this (the test's) process. */
  readonly at: number;
}

/** How a process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * A process a test started, with its output kept line by line so that the test can wait
 * for a line (with a bound) and know when it came. Disposing it kills its process group.
 */
export class SpawnedProcess implements AsyncDisposable {
  readonly lines: Line[] = [];
  readonly exited: Promise<Exit>;
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();
  readonly #name: string;
  readonly #cleanups: (() => void)[] = [];
  #exit: Exit | undefined;

  private constructor(name: string, child: ChildProcess) {
    this.#name = name;
    this.#child = child;
    for (const stream of ["stdout", "stderr"] as const) {
      const input = child[stream];
      if (input === null) continue;
      createInterface({ input }).on("line", (text) => {
        this.lines.push({ stream, text, at: performance.now() });
        this.#wake();
      });
    }
    // "close", not "exit": it comes after the last line of output.
    this.exited = new Promise((resolve) =>
      child.once("close", (code, signal) => {
        this.#exit = { code, signal };
        this.#wake();
        resolve(this.#exit);
      }),
    );
  }

  /**
   * Starts `command` in a process group of its own, so that {@link killGroup} also ends the
   * processes it started, as a crash of the whole host would.
   */
  static start(
    name: string,
    command: string,
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
  ): SpawnedProcess {
    const child = spawn(command, [...args], {
      cwd: options.cwd ?? root,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    return new SpawnedProcess(name, child);
  }

  /** Starts the `elector` CLI from its sources. */
  static cli(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): SpawnedProcess {
    return SpawnedProcess.start(
      name,
      process.execPath,
      ["--import", "tsx", `${root}packages/cli/src/bin.ts`, ...args],
      { env: { ...sourceEnv, ...env } },
    );
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** Everything written to `stream` so far. */
  output(stream: "stdout" | "stderr" = "stdout"): string {
    return this.lines
      .filter((line) => line.stream === stream)
      .map((line) => `${line.text}\n`)
      .join("");
  }

  /**
   * Resolves with the first line, past or future, that matches; rejects after `timeoutMs`
   * or when the process exits first, with its recent output.
   *
   * @param from only lines at or after this index of {@link lines} count.
   */
  waitForLine(pattern: RegExp, timeoutMs: number, from = 0): Promise<Line> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.slice(from).find((line) => pattern.test(line.text));
        if (found !== undefined) return finish(() => resolve(found));
        if (this.#exit !== undefined) {
          finish(() =>
            reject(
              this.#failure(`exited (${JSON.stringify(this.#exit)}) before printing ${pattern}`),
            ),
          );
        }
      };
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        settle();
      };
      const timer = setTimeout(
        () => finish(() => reject(this.#failure(`printed no ${pattern} within ${timeoutMs} ms`))),
        timeoutMs,
      );
      this.#waiters.add(check);
      check();
    });
  }

  /**
   * The first of `processes` to print a line that matches, with that line: which of several
   * candidates became the leader, say.
   */
  static async waitForAny(
    processes: readonly SpawnedProcess[],
    pattern: RegExp,
    timeoutMs: number,
  ): Promise<{ process: SpawnedProcess; line: Line }> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (const process of processes) {
          const line = process.lines.find((candidate) => pattern.test(candidate.text));
          if (line !== undefined) return finish(() => resolve({ process, line }));
        }
      };
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        for (const process of processes) process.#waiters.delete(check);
        settle();
      };
      const timer = setTimeout(() => {
        const names = processes.map((process) => process.#failure("").message).join("\n");
        finish(() =>
          reject(new Error(`none printed ${pattern} within ${timeoutMs} ms:\n${names}`)),
        );
      }, timeoutMs);
      for (const process of processes) process.#waiters.add(check);
      check();
    });
  }

  /** Resolves with how the process ended; rejects if it runs on past `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(this.#failure(`did not exit within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal` to the process alone. */
  kill(signal: NodeJS.Signals): void {
    if (this.#exit === undefined) this.#child.kill(signal);
  }

  /** Sends `signal` to the process and everything it started. */
  killGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // The group is gone already.
    }
  }

  /** Runs `cleanup` when disposed, before the process itself is killed. */
  onDispose(cleanup: () => void): void {
    this.#cleanups.push(cleanup);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const cleanup of this.#cleanups) cleanup();
    // SIGKILL to the group even after the leader exited: a command it started may be left.
    this.killGroup("SIGCONT");
    this.killGroup("SIGKILL");
    await this.exited;
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  #failure(what: string): Error {
    const recent = this.lines
      .slice(-20)
      .map((line) => `  ${line.stream}: ${line.text}`)
      .join("\n");
    return new Error(`${this.#name} ${what}; its last lines:\n${recent}`);
  }
}

/** Runs the CLI to its end and returns its exit and output. */
export async function runCli(
  args: readonly string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = {},
): Promise<{ exit: Exit; stdout: string; stderr: string; elapsedMs: number }> {
  const started = performance.now();
  await using cli = SpawnedProcess.cli(`elector ${args[0] ?? ""}`, args, env);
  const exit = await cli.waitForExit(timeoutMs);
  return {
    exit,
    stdout: cli.output("stdout"),
    stderr: cli.output("stderr"),
    elapsedMs: performance.now() - started,
  };
}
