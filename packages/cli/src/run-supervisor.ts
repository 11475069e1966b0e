import { constants } from "node:os";
import { type Elector, type Logger, lead } from "@elector/core";
import { formatDuration } from "./arguments.js";
import { messageOf } from "./cli-error.js";
import { type ChildExit, SupervisedChild } from "./supervised-child.js";

/** What {@link RunSupervisor} needs. */
export interface SupervisorOptions {
  readonly elector: Elector;
  readonly command: string;
  readonly args: readonly string[];
  /**
   * How long the command has to exit after SIGTERM: a fixed time, or read at each loss (the
   * backend's margin in force then, which a ZooKeeper server may have changed).
   */
  readonly graceMs: number | (() => number);
  readonly once: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** elector's own log: the command's lifecycle (the elector logs its leadership). */
  readonly log: Logger;
  /** `--timeout`: give up a campaign that has not won within this, with {@link notElectedExitCode}. */
  readonly timeoutMs?: number | undefined;
  /** `--try`: give up a campaign as soon as another candidate leads. */
  readonly tryOnce?: boolean;
}

/**
 * The exit code of `elector run` when it gave up without leading (`--timeout`, `--try`):
 * sysexits' EX_TEMPFAIL, "try again later", as cron-style callers expect.
 */
export const notElectedExitCode = 75;

/**
 * Runs the command in each term through `lead()`, which guarantees that a term's command has
 * exited before the next campaign starts.
 */
export class RunSupervisor {
  readonly #options: SupervisorOptions;
  /** Ends `lead()`: aborted when elector should exit. */
  readonly #stop = new AbortController();
  #child: SupervisedChild | undefined;
  /** A stop signal was forwarded to the command: when it exits, elector exits. */
  #stopRequested = false;
  /** The signal that stopped elector while no command ran. */
  #stoppedBy: NodeJS.Signals | undefined;
  #exitCode: number | undefined;
  /** Ends the current campaign's `--timeout` and `--try` watches; set while campaigning. */
  #guard: AbortController | undefined;

  constructor(options: SupervisorOptions) {
    this.#options = options;
  }

  /** Starts the watches that give a campaign up: `--timeout`'s timer and `--try`'s observer. */
  #armGuard(): void {
    const { timeoutMs, tryOnce, elector } = this.#options;
    if (timeoutMs === undefined && tryOnce !== true) return;
    const guard = new AbortController();
    this.#guard = guard;
    const giveUp = (why: string) => {
      // A term that started meanwhile disarmed this guard: it no longer speaks.
      if (this.#guard !== guard || guard.signal.aborted) return;
      this.#disarmGuard();
      this.#options.log.info({ exitCode: notElectedExitCode }, `${why}; giving up`);
      this.#exitCode = notElectedExitCode;
      this.#stop.abort();
    };
    if (timeoutMs !== undefined) {
      // Ref'd: the run awaits it to give up, and nothing else ends a campaign that waits on a
      // server that never answers (the timer rule of packages/core/README.md).
      const timer = setTimeout(
        () => giveUp(`not elected within ${formatDuration(timeoutMs)} (--timeout)`),
        timeoutMs,
      );
      guard.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
    }
    if (tryOnce === true) {
      void (async () => {
        for await (const leader of elector.observe({ signal: guard.signal })) {
          if (leader !== undefined && leader.id !== elector.id) {
            giveUp(`${leader.id} leads (--try)`);
            return;
          }
        }
      })().catch(() => {
        // Aborted by a term that started, or the elector closed: nothing to give up.
      });
    }
  }

  #disarmGuard(): void {
    this.#guard?.abort();
    this.#guard = undefined;
  }

  async run(value: string | undefined): Promise<number> {
    // Elected, lost (with its reason), suspended and resumed: the elector logs those itself.
    const { elector, log } = this.#options;
    this.#armGuard();
    try {
      await lead(elector, (leadership) => this.#term(leadership.token, leadership.signal), {
        signal: this.#stop.signal,
        ...(value === undefined ? {} : { value }),
        onError: (error) =>
          log.warn({ err: error }, `campaign failed, trying again: ${messageOf(error)}`),
      });
    } finally {
      this.#disarmGuard();
    }
    if (this.#exitCode !== undefined) return this.#exitCode;
    if (this.#stoppedBy !== undefined) return 128 + (constants.signals[this.#stoppedBy] ?? 0);
    return 0;
  }

  /** A stop signal: forwarded to the command if one runs, else elector stops now. */
  stopSignal(signal: NodeJS.Signals): void {
    const child = this.#child;
    if (child !== undefined && !child.hasExited) {
      this.#options.log.info({ signal }, `${signal} received: forwarding it to the command`);
      this.#stopRequested = true;
      child.signal(signal);
      return;
    }
    this.#stoppedBy ??= signal;
    this.#stop.abort();
  }

  forward(signal: NodeJS.Signals): void {
    this.#child?.signal(signal);
  }

  /** One term: the command runs until it exits or the term ends. */
  async #term(token: bigint, term: AbortSignal): Promise<void> {
    this.#disarmGuard();
    if (this.#stop.signal.aborted) return;
    if (term.aborted) {
      this.#armGuard();
      return;
    }
    const { command, args, elector, env, log } = this.#options;
    const grace = this.#options.graceMs;
    const graceMs = () => (typeof grace === "number" ? grace : grace());
    const child = SupervisedChild.start(command, args, {
      ...env,
      ELECTOR_FENCING_TOKEN: token.toString(),
      ELECTOR_LEADER_ID: elector.id,
      ELECTOR_ELECTION: elector.election,
    });
    this.#child = child;
    if (child.pid !== undefined) {
      log.info(
        { token: token.toString(), command, commandPid: child.pid },
        `elected with token ${token}; started ${command} (pid ${child.pid})`,
      );
    }
    try {
      const lost = new Promise<"lost">((resolve) => {
        if (term.aborted) resolve("lost");
        term.addEventListener("abort", () => resolve("lost"), { once: true });
      });
      const unwatched = child.unwatched.then(() => "unwatched" as const);
      const outcome = await Promise.race([child.exited, lost, unwatched]);
      if (outcome === "unwatched") {
        // Were elector to die now, nothing would stop the command: stop it while we can.
        log.error(`the watchdog of ${command} ended; stopping ${command}, and elector with it`);
        logExit(log, command, await child.terminate(graceMs()));
        this.#finish({ code: 1, signal: undefined, error: undefined });
        return;
      }
      if (outcome !== "lost") {
        logExit(log, command, outcome, "; resigning");
        this.#finish(outcome);
        return;
      }
      const stopAfterMs = graceMs();
      log.info(
        { command, graceMs: stopAfterMs },
        `stopping ${command}: SIGTERM, then SIGKILL after ${formatDuration(stopAfterMs)}`,
      );
      const exit = await child.terminate(stopAfterMs);
      logExit(log, command, exit);
      if (this.#options.once || this.#stopRequested) this.#finish(exit);
    } finally {
      this.#child = undefined;
      // lead() campaigns again: that campaign is bounded too.
      if (!this.#stop.signal.aborted) this.#armGuard();
    }
  }

  #finish(exit: ChildExit): void {
    this.#exitCode = exit.code;
    this.#stop.abort();
  }
}

function logExit(log: Logger, command: string, exit: ChildExit, then = ""): void {
  const fields = { command, exitCode: exit.code, signal: exit.signal };
  const message = `${describeExit(command, exit)}${then}`;
  if (exit.error === undefined) log.info(fields, message);
  else log.error({ ...fields, err: exit.error }, message);
}

function describeExit(command: string, exit: ChildExit): string {
  if (exit.error !== undefined) return `${command} could not be started: ${exit.error.message}`;
  if (exit.signal !== undefined) return `${command} ended by ${exit.signal}`;
  return `${command} exited with code ${exit.code}`;
}
