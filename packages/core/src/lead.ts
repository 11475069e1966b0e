import pRetry from "p-retry";
import { abortSignal, advertisedValue, optionsObject } from "./config/validate.js";
import type { Elector, Leadership } from "./elector.js";
import {
  InvalidOptionError,
  isAbortError,
  isLeadershipLostError,
  isRetryableError,
} from "./errors.js";
import { delay } from "./signals.js";

/** How {@link lead} waits between terms and between failed campaigns. */
export interface BackoffOptions {
  /**
   * The wait between terms, and the first wait after a failed campaign, in milliseconds;
   * each wait is randomized up to twice as long (jitter).
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

/**
 * Campaigns, runs `work` while leading, and campaigns again after each term, until `signal`
 * aborts. The work's signal (`leadership.signal`) aborts before any other candidate can be
 * elected, and a new term starts only after the last work settled: two works never overlap.
 * A work that returns ends its term (lead resigns). Between terms lead waits `minDelayMs`
 * with jitter; a failed campaign is retried with exponential backoff and jitter while its
 * error is retryable.
 *
 * @returns a promise that resolves once `signal` aborted and the last work settled.
 * @throws InvalidOptionError before the first campaign when `work` is not a function or an
 * option is wrong.
 * @throws the campaign's error when it is not retryable (the elector was closed, say), or the
 * work's error when no `onError` is given.
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
  // Bad input is refused before the first campaign.
  if (typeof work !== "function") {
    throw new InvalidOptionError("work", work, "a function that does the leader's work");
  }
  optionsObject("options", options, leadOptionKeys, "lead()'s options");
  const stop = abortSignal("signal", options.signal);
  if (options.value !== undefined) advertisedValue(options.value);
  if (options.onError !== undefined && typeof options.onError !== "function") {
    throw new InvalidOptionError("onError", options.onError, "a function, or undefined");
  }
  const backoff = resolveBackoff(options.backoff ?? {});
  const campaignOptions = {
    ...(stop === undefined ? {} : { signal: stop }),
    ...(options.value === undefined ? {} : { value: options.value }),
  };
  while (stop?.aborted !== true) {
    // Held outside p-retry: when stop aborts just as a campaign is won, p-retry rejects with
    // the abort, and the term won must still be resigned.
    let leadership: Leadership | undefined;
    try {
      await pRetry(
        async () => {
          leadership = await elector.campaign(campaignOptions);
        },
        {
          retries: Number.POSITIVE_INFINITY,
          factor: backoff.factor,
          minTimeout: backoff.minDelayMs,
          maxTimeout: backoff.maxDelayMs,
          randomize: true,
          signal: stop,
          shouldRetry: ({ error }) => {
            if (stop?.aborted || !isRetryableError(error)) return false;
            options.onError?.(error);
            return true;
          },
        },
      );
    } catch (error) {
      // A check of the signal, not of a narrowed copy: it aborts while we wait.
      if (!stopped(stop)) throw error;
    }
    if (leadership === undefined) return;
    const failure = await runTerm(leadership, work, stop, options.onError);
    if (failure !== undefined) {
      if (options.onError === undefined) throw failure.error;
      options.onError(failure.error);
    }
    // Let the others in line have a turn, and never spin.
    const pause = Math.min(backoff.maxDelayMs, backoff.minDelayMs * (1 + Math.random()));
    await delay(pause, stop).catch(() => {});
  }
}

/**
 * Runs one term's work, and resigns once it settled. Resolves once the term has ended and the
 * work has settled, with the work's failure if it failed.
 */
async function runTerm(
  leadership: Leadership,
  work: LeaderWork,
  stop: AbortSignal | undefined,
  onError: ((error: unknown) => void) | undefined,
): Promise<{ error: unknown } | undefined> {
  const resign = () => leadership.resign().catch((error: unknown) => onError?.(error));
  const resignOnStop = () => void resign();
  stop?.addEventListener("abort", resignOnStop, { once: true });
  // Stop may have aborted between the campaign's end and the line above.
  if (stop?.aborted) resignOnStop();
  let failure: { error: unknown } | undefined;
  try {
    await Promise.resolve()
      .then(() => work(leadership))
      .catch((error: unknown) => {
        // Once the term ended the work was told to stop, and a throw is how many stop.
        if (!(leadership.signal.aborted && isStopping(error, leadership.signal))) {
          failure = { error };
        }
      });
  } finally {
    stop?.removeEventListener("abort", resignOnStop);
    // The work returned (or threw) while still leading: this term is over.
    await resign();
  }
  return failure;
}

function stopped(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Whether `error` is how a work says it stopped because its term ended. */
function isStopping(error: unknown, signal: AbortSignal): boolean {
  return error === signal.reason || isAbortError(error) || isLeadershipLostError(error);
}

const leadOptionKeys = Object.freeze({
  signal: true,
  value: true,
  backoff: true,
  onError: true,
} as const satisfies Record<keyof LeadOptions, true>);

const backoffKeys = Object.freeze({
  minDelayMs: true,
  maxDelayMs: true,
  factor: true,
} as const satisfies Record<keyof BackoffOptions, true>);

function resolveBackoff(backoff: BackoffOptions): Required<BackoffOptions> {
  optionsObject("backoff", backoff, backoffKeys, "the backoff options");
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
