import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createMemoryElector, type MemoryElector } from "@elector/core";
import { type CandidateEvent, runCandidate, WriteGate } from "./candidate.js";
import type { EventLog } from "./event-log.js";

/** What every candidate is given. */
export interface CandidateSetup {
  readonly url: string;
  readonly election: string;
  readonly ledgerUrl: string;
  readonly tickMs: number;
  readonly log: EventLog;
}

/** The demo's handle on one candidate, whether a process or a worker in this process. */
export interface Candidate {
  readonly id: string;
  /** The next write waits after its `isActive()` check until {@link release}. */
  holdNextWrite(): void;
  release(): void;
  /** Freezes the candidate, as a long GC pause would. */
  freeze(): void;
  thaw(): void;
  /** Ends it without warning. */
  kill(): Promise<void>;
  /** Resigns if leading and ends it. */
  stop(): Promise<void>;
}

const script = fileURLToPath(new URL("./candidate-process.ts", import.meta.url));

/** A candidate in a child process: frozen with SIGSTOP, killed with SIGKILL. */
export class ProcessCandidate implements Candidate {
  readonly id: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  constructor(id: string, setup: CandidateSetup) {
    this.id = id;
    // The same loader flags as this process (tsx's), so the child runs TypeScript too.
    this.#child = spawn(process.execPath, [...process.execArgv, script], {
      env: {
        ...process.env,
        ELECTOR_URL: setup.url,
        DEMO_ELECTION: setup.election,
        DEMO_ID: id,
        DEMO_LEDGER_URL: setup.ledgerUrl,
        DEMO_TICK_MS: String(setup.tickMs),
      },
      stdio: ["pipe", "pipe", "inherit"],
    });
    createInterface({ input: this.#child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      try {
        setup.log.push(id, JSON.parse(line) as CandidateEvent);
      } catch {
        process.stderr.write(`${id}: ${line}\n`);
      }
    });
    this.#exited = new Promise((resolve) => this.#child.once("exit", () => resolve()));
  }

  holdNextWrite(): void {
    this.#send("hold");
  }

  release(): void {
    this.#send("release");
  }

  freeze(): void {
    this.#child.kill("SIGSTOP");
  }

  thaw(): void {
    this.#child.kill("SIGCONT");
  }

  async kill(): Promise<void> {
    this.#child.kill("SIGKILL");
    await this.#exited;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill("SIGCONT");
    this.#send("stop");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 10_000);
    await this.#exited;
    clearTimeout(timer);
  }

  #send(command: string): void {
    this.#child.stdin?.write(`${command}\n`);
  }
}

/**
 * A candidate as an async worker in this process, on the memory backend (whose state is
 * shared only within one JS realm). A process cannot be frozen from inside, so the freeze is
 * modelled: renewals stop (`faults.stopRenewals()`) while its next write is held, and the
 * kill expires its session (`faults.expireSession()`) and closes it.
 */
export class InProcessCandidate implements Candidate {
  readonly id: string;
  readonly #elector: MemoryElector;
  readonly #gate = new WriteGate();
  readonly #stop = new AbortController();
  readonly #running: Promise<void>;
  #dead = false;

  constructor(id: string, setup: CandidateSetup, memory: { name: string; ttlMs: number }) {
    this.id = id;
    this.#elector = createMemoryElector({ election: setup.election, id, ...memory });
    this.#running = runCandidate({
      elector: this.#elector,
      ledgerUrl: setup.ledgerUrl,
      tickMs: setup.tickMs,
      gate: this.#gate,
      // A killed candidate says nothing more, as a killed process would not.
      report: (event) => {
        if (!this.#dead) setup.log.push(id, event);
      },
      signal: this.#stop.signal,
    }).catch((error: unknown) => {
      if (!this.#dead) throw error;
    });
  }

  holdNextWrite(): void {
    this.#gate.holdNext();
  }

  release(): void {
    this.#gate.release();
  }

  freeze(): void {
    this.#elector.faults.stopRenewals();
  }

  thaw(): void {
    this.#elector.faults.resumeRenewals();
  }

  async kill(): Promise<void> {
    this.#dead = true;
    this.#elector.faults.expireSession();
    this.#stop.abort();
    this.#gate.release();
    await this.#elector.close();
    await this.#running;
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#gate.release();
    await this.#running;
    await this.#elector.close();
  }
}
