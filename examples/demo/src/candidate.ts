import { setTimeout as delay } from "node:timers/promises";
import { type Elector, lead } from "@elector/core";
import { writeToLedger } from "./ledger.js";

/** What a candidate reports, as JSON lines (process mode) or calls (memory mode). */
export type CandidateEvent =
  | { readonly type: "ready" }
  | { readonly type: "elected"; readonly token: string }
  | { readonly type: "holding"; readonly tick: number; readonly token: string }
  | {
      readonly type: "write";
      readonly tick: number;
      readonly token: string;
      readonly accepted: boolean;
      readonly highest?: string;
    }
  | { readonly type: "lost"; readonly reason: string; readonly token: string }
  | { readonly type: "stopped" };

/**
 * Holds a candidate's next write after its `isActive()` check, so that the demo can freeze it
 * at the worst moment: it has decided to write as leader, and has not written yet.
 */
export class WriteGate {
  #holdNext = false;
  #release: (() => void) | undefined;

  /** The next write waits, after its check, until {@link release}. */
  holdNext(): void {
    this.#holdNext = true;
  }

  release(): void {
    this.#holdNext = false;
    this.#release?.();
    this.#release = undefined;
  }

  /** @internal Resolves at once, or when released if a hold was asked for. */
  async pass(onHold: () => void): Promise<void> {
    if (!this.#holdNext) return;
    const released = new Promise<void>((resolve) => {
      this.#release = resolve;
    });
    onHold();
    await released;
  }
}

/** What {@link runCandidate} needs. */
export interface CandidateOptions {
  readonly elector: Elector;
  readonly ledgerUrl: string;
  /** How often the leader's job ticks (one ledger write per tick). */
  readonly tickMs: number;
  readonly gate: WriteGate;
  readonly report: (event: CandidateEvent) => void;
  /** Resigns and ends the candidate. */
  readonly signal: AbortSignal;
}

/**
 * One candidate of the singleton job: `lead()` campaigns, runs the job while this candidate
 * leads, and campaigns again after a loss. The job writes one ledger line per tick, checking
 * `isActive()` right before each write and presenting the term's fencing token with it.
 */
export async function runCandidate(options: CandidateOptions): Promise<void> {
  const { elector, ledgerUrl, tickMs, gate, report, signal } = options;
  elector.on("lost", ({ reason, token }) => {
    if (reason !== "resigned" && reason !== "closed")
      report({ type: "lost", reason, token: `${token}` });
  });
  report({ type: "ready" });
  await lead(
    elector,
    async (leadership) => {
      const token = `${leadership.token}`;
      report({ type: "elected", token });
      for (let tick = 1; leadership.isActive(); tick++) {
        // Past the check this candidate acts as leader; a pause here is what fencing is for.
        await gate.pass(() => report({ type: "holding", tick, token }));
        const outcome = await writeToLedger(
          ledgerUrl,
          leadership.token,
          `tick ${tick} by ${elector.id}`,
        );
        report(
          outcome.accepted
            ? { type: "write", tick, token, accepted: true }
            : { type: "write", tick, token, accepted: false, highest: `${outcome.highest}` },
        );
        await delay(tickMs, undefined, { signal: leadership.signal }).catch(() => {});
      }
    },
    { signal, backoff: { minDelayMs: 50, maxDelayMs: 500 } },
  );
  report({ type: "stopped" });
}
