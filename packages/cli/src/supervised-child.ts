import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import type { Writable } from "node:stream";

/**
 * Runs the command (`"$@"`) once a line arrives on fd 3, in place of this shell (`exec`, so
 * the pid, and the group, stay the same); on end-of-file, when elector died before its
 * watchdog ran, it exits without running it.
 */
const held = 'IFS= read -r go <&3 || exit 125; exec 3<&-; exec "$@"';

/**
 * Waits for a line or end-of-file on stdin. "disarm" (the group was cleared) ends it quietly;
 * anything else, end-of-file above all (elector died), kills the group `$1`. It ignores the
 * signals that stop elector, so that stopping elector never stops its watchdog first.
 */
const watchdog =
  'trap "" HUP INT QUIT TERM USR1 USR2; IFS= read -r word; [ "$word" = disarm ] || kill -9 "-$1" 2>/dev/null; exit 0';

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
 *
 * Nor does the command outlive elector: a watchdog (a shell in a session of its own, deaf to
 * the signals that stop elector) holds a pipe from this process and kills the command's group
 * when the pipe closes, which the kernel does when this process dies, SIGKILL included. The
 * command is held before `exec` until the watchdog runs, so no moment exists in which the
 * command runs unwatched: should elector die before the watchdog starts, the held command
 * reads end-of-file and never runs.
 */
export class SupervisedChild {
  /** Resolves once the process has exited and its group was cleared; never rejects. */
  readonly exited: Promise<ChildExit>;
  /**
   * Resolves if the watchdog ends while the command runs (someone killed it): from then on,
   * the command would outlive elector's death, so the caller must stop it. Never rejects.
   */
  readonly unwatched: Promise<void>;
  #unwatch: () => void = () => {};
  readonly #child: ChildProcess;
  /** Kills the group should this process die; told to stand down once the group is cleared. */
  #watchdog: ChildProcess | undefined;
  #exit: ChildExit | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.unwatched = new Promise((resolve) => {
      this.#unwatch = resolve;
    });
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        // What the command left behind ran only because it did: it goes with it.
        this.#signalGroup("SIGKILL");
        this.#standDown();
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
        this.#standDown();
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
    const child = spawn("/bin/sh", ["-c", held, "elector-run", command, ...args], {
      env,
      stdio: ["inherit", "inherit", "inherit", "pipe"],
      detached: true,
    });
    const supervised = new SupervisedChild(child);
    const hold = child.stdio[3] as Writable | null;
    if (child.pid === undefined || hold === null) return supervised;
    hold.on("error", () => {});
    const guard = spawn("/bin/sh", ["-c", watchdog, "elector-watchdog", String(child.pid)], {
      stdio: ["pipe", "ignore", "ignore"],
      detached: true,
    });
    guard.once("error", () => {});
    if (guard.pid === undefined) {
      // No watchdog, no command: end-of-file on the hold ends the shell before it runs it.
      hold.destroy();
      return supervised;
    }
    supervised.#watchdog = guard;
    guard.once("exit", () => {
      if (supervised.#exit === undefined) supervised.#unwatch();
    });
    hold.end("go\n");
    return supervised;
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
    // Ref'd: terminate() is awaited, and a command that ignores SIGTERM ends only by it.
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The group is empty: the watchdog must not kill a group that may get its id again. */
  #standDown(): void {
    const stdin = this.#watchdog?.stdin;
    if (stdin === null || stdin === undefined) return;
    stdin.on("error", () => {});
    stdin.end("disarm\n");
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
