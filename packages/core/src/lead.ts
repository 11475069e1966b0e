import pRetry from "p-retry";
import type { Elector, Leadership } from "./elector.js";
import { InvalidOptionError, isRetryableError } from "./errors.js";

/** How {@link lead} waits between terms and between failed campaigns. */
export interface BackoffOptions {
  /**
   * The first wait, in milliseconds; each wait is randomized up to twice as long (jitter).
   * @defaultValue 100
   */
  readonly minDelayMs?: number;
  /**
   * The longest wait, in milliseconds.
   * @defaultValue 10000
   */
  readonly maxDelayMs?: number;
  /**
   * How much each failed campaign multiplies the wait.
   * @defaultValue 2
   */
  readonly factor?: number;
}

/** Options of {@link lead}. */
export interface LeadOptions {
  /** Stops: resigns if leading, aborts the work, waits for it, and resolves. */
  readonly signal?: AbortSignal;
  /** The value to advertise while leading. @defaultValue the elector's id */
  readonly value?: string;
  /** Waits between terms and after failed campaigns. */
  readonly backoff?: BackoffOptions;
  /**
   * Called when the work throws, or a campaign fails and will be tried again. Without it, a
   * work that throws ends `lead()` with that error (after resigning).
   */
  readonly onError?: (error: unknown) => void;
}

/** The work {@link lead} runs in each term. Stop when `leadership.signal` aborts. */
export type LeaderWork = (leadership: Leadership) => unknown;

/** A term ended: tells p-retry to wait without counting a failure. */
class TermEnded extends Error {}

/** The work threw: carried through p-retry, which would not retry a TypeError. */
class WorkFailed extends Error {}

/**
 * Campaigns, runs `work` while leading, and campaigns again after each term, until `signal`
 * aborts. The work's signal (`leadership.signal`) aborts before any other candidate can be
 * elected, and a new term starts only after the last work settled: two works never overlap.
 * A work that returns ends its term (lead resigns); a failed campaign is retried with
 * exponential backoff and jitter while its error is retryable.
 *
 * @returns a promise that resolves once `signal` aborted and the last work settled.
 * @throws the campaign's error when it is not retryable (the elector was closed, say).
 *
 * @example
 * ```ts
 * await lead(elector, async ({ signal, token }) => {
 *   while (!signal.aborted) await runDueJobs({ signal, token });
 * }, { signal: shutdown.signal });
 * ```
 */
export async function lead(
  elector: Elector,
  work: LeaderWork,
  options: LeadOptions = {},
): Promise<void> {
  const backoff = resolveBackoff(options.backoff ?? {});
  const stop = options.signal ?? new AbortController().signal;
  try {
    await pRetry(
      async () => {
        const leadership = await elector.campaign({
          signal: stop,
          ...(options.value === undefined ? {} : { value: options.value }),
        });
        await runTerm(leadership, work, stop);
        throw new TermEnded();
      },
      {
        retries: Number.POSITIVE_INFINITY,
        factor: backoff.factor,
        minTimeout: backoff.minDelayMs,
        maxTimeout: backoff.maxDelayMs,
        randomize: true,
        signal: stop,
        // A term that was won resets nothing but does not grow the wait either.
        shouldConsumeRetry: ({ error }) => !(error instanceof TermEnded),
        shouldRetry: ({ error }) => {
          if (stop.aborted) return false;
          if (error instanceof TermEnded) return true;
          if (error instanceof WorkFailed) {
            if (options.onError === undefined) return false;
            options.onError(error.cause);
            return true;
          }
          if (!isRetryableError(error)) return false;
          options.onError?.(error);
          return true;
        },
      },
    );
  } catch (error) {
    if (stop.aborted) return;
    throw error instanceof WorkFailed ? error.cause : error;
  }
}

/** Runs one term's work; settles once the term has ended and the work has settled. */
async function runTerm(leadership: Leadership, work: LeaderWork, stop: AbortSignal): Promise<void> {
  const resignOnStop = () => void leadership.resign().catch(() => {});
  stop.addEventListener("abort", resignOnStop, { once: true });
  let failure: { error: unknown } | undefined;
  try {
    await Promise.resolve()
      .then(() => work(leadership))
      .catch((error: unknown) => {
        // Once the term has ended the work was told to stop, and a throw is how many stop.
        if (!leadership.signal.aborted) failure = { error };
      });
  } finally {
    stop.removeEventListener("abort", resignOnStop);
    // The work returned (or threw) while still leading: this term is over.
    await leadership.resign().catch(() => {});
  }
  if (failure !== undefined)
    throw new WorkFailed("the leader's work failed", { cause: failure.error });
}

function resolveBackoff(backoff: BackoffOptions): Required<BackoffOptions> {
  const minDelayMs = backoff.minDelayMs ?? 100;
  const maxDelayMs = backoff.maxDelayMs ?? 10_000;
  const factor = backoff.factor ?? 2;
  if (!Number.isFinite(minDelayMs) || minDelayMs < 0) {
    throw new InvalidOptionError("backoff.minDelayMs", minDelayMs, "a number of milliseconds ≥ 0");
  }
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < minDelayMs) {
    throw new InvalidOptionError(
      "backoff.maxDelayMs",
      maxDelayMs,
      `a number of milliseconds ≥ minDelayMs (${minDelayMs})`,
    );
  }
  if (!Number.isFinite(factor) || factor < 1) {
    throw new InvalidOptionError("backoff.factor", factor, "a number ≥ 1");
  }
  return { minDelayMs, maxDelayMs, factor };
}
