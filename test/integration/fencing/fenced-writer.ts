// A leader that writes to a shared ledger over HTTP, through the ledger's fence, while it
// believes it leads. Used in one process (memory backend) and in child processes (etcd).
import { setTimeout as delay } from "node:timers/promises";
import type { Elector } from "@elector/core";
import { fencingHeaders, staleTokenErrorFromResponse } from "@elector/fencing";

export interface FencedWriterOptions {
  readonly elector: Elector;
  readonly ledgerUrl: string;
  /** The pause between writes. */
  readonly tickMs: number;
  /**
   * The write (1-based) before which the writer stalls: after it checked `isActive()`, so it
   * has decided to write and holds its token, as a GC pause would catch it.
   */
  readonly stallBeforeWrite?: number;
  /** The stall itself: a SIGSTOP of the process, or a wait in one process. */
  readonly stall?: () => void | Promise<void>;
  /** Stops writing (the write in flight completes) and ends the loop. */
  readonly signal: AbortSignal;
  readonly report: (event: string, fields?: Record<string, unknown>) => void;
}

/** Campaigns, then writes every `tickMs` while leading; returns once refused, lost or stopped. */
export async function runFencedWriter(options: FencedWriterOptions): Promise<void> {
  const { elector, report, signal } = options;
  const leadership = await elector.campaign({ signal });
  const token = leadership.token;
  report("leading", { token });
  for (let seq = 1; !signal.aborted; seq++) {
    try {
      await delay(options.tickMs, undefined, { signal });
    } catch {
      break;
    }
    if (!leadership.isActive()) {
      report("inactive", { seq, token });
      break;
    }
    if (seq === options.stallBeforeWrite) {
      report("stalling", { seq, token });
      await options.stall?.();
      // Lease expiry is visible here, but the write below was decided before the stall.
      report("resumed", { seq, token, active: leadership.isActive() });
    }
    const response = await fetch(options.ledgerUrl, {
      method: "POST",
      headers: { ...fencingHeaders(token), "Content-Type": "application/json" },
      body: JSON.stringify({ writer: elector.id, seq }),
    });
    const body: unknown = await response.json();
    if (response.ok) {
      report("wrote", { seq, token, index: (body as { index: number }).index });
      continue;
    }
    const stale = staleTokenErrorFromResponse(response.status, body);
    report("refused", {
      seq,
      token,
      status: response.status,
      body,
      stale:
        stale === undefined ? undefined : { presented: stale.presented, highest: stale.highest },
    });
    break;
  }
}
