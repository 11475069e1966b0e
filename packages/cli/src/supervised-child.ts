import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";

/** How the command ended. */
export interface ChildExit {
  /** The exit code, or `128 + n` when signal `n` ended it (as shells report it). */
  readonly code: number;
  /** The signal that ended it, if one did. */
  readonly signal: NodeJS.Signals | undefined;
  /** Set when the command could not be started at all (`spawn` failed). */
  readonly error: Error | undefined;
}

/**
 * The command `elector run` starts while it leads: it owns the child process, its process
 * group, and the one timer that escalates SIGTERM to SIGKILL.
 *
 * The command runs in a process group of its own, and every signal goes to the whole group:
 * a SIGKILL after the grace period also ends what the command started (a shell's children),
 * and once the command has exited, whatever it left running in its group is killed. Nothing
 * of the command outlives the term. The price: the group is a new session without a
 * controlling terminal, so the command cannot read from the terminal.
 */
export class SupervisedChild {
  /** Resolves once the process has exited and its group was cleared; never rejects. */
  readonly exited: Promise<ChildExit>;
  readonly #child: ChildProcess;
  #exit: ChildExit | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        // What the command left behind ran only because it did: it goes with it.
        this.#signalGroup("SIGKILL");
        this.#exit = {
          code: code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)),
          signal: signal ?? undefined,
          error: undefined,
        };
        resolve(this.#exit);
      });
      // spawn failed (ENOENT, EACCES): no exit event follows. 127 and 126 as shells use.
      child.once("error", (error: NodeJS.ErrnoException) => {
        if (this.#exit !== undefined || child.pid !== undefined) return;
        this.#exit = { code: error.code === "ENOENT" ? 127 : 126, signal: undefined, error };
        resolve(this.#exit);
      });
    });
  }

  /**
   * Starts `command` in a process group of its own, with the CLI's standard streams, so that
   * its output is the CLI's.
   *
   * @param env the command's whole environment.
   */
  static start(command: string, args: readonly string[], env: NodeJS.ProcessEnv): SupervisedChild {
    return new SupervisedChild(
      spawn(command, [...args], { env, stdio: "inherit", detached: true }),
    );
  }

  /** The process id, once started; also the id of its process group. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Whether the process has exited (or never started). */
  get hasExited(): boolean {
    return this.#exit !== undefined;
  }

  /** Sends `signal` to the command's process group; does nothing once the command has exited. */
  signal(signal: NodeJS.Signals): void {
    if (this.#exit === undefined) this.#signalGroup(signal);
  }

  /**
   * Sends SIGTERM, then SIGKILL if the process has not exited after `graceMs`, and resolves
   * once it has exited.
   */
  async terminate(graceMs: number): Promise<ChildExit> {
    if (this.#exit !== undefined) return this.#exit;
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  #signalGroup(signal: NodeJS.Signals): void {
    const pid = this.#child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is empty already.
    }
  }
}
