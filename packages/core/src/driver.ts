import type { LeaderInfo, Participant } from "./elector.js";
import type { LossReason } from "./errors.js";
import type { Logger } from "./logger.js";

/**
 * What a backend hands the driver of one campaign, to report on the term it may win. Calls
 * after the term ended are ignored.
 */
export interface TermControl {
  /**
   * Aborted when the term ends, for any reason, or when the campaign is withdrawn. The driver
   * then stops the term's watches and timers.
   */
  readonly signal: AbortSignal;
  /**
   * Moves the local deadline later, never earlier. A driver calls it for each acknowledged
   * renewal with the renewal's *send* time plus the TTL, minus a safety margin, in
   * `performance.now()` milliseconds; core counts the wall clock alongside, so that a suspend
   * that stopped the monotonic clock still ends the term. A campaign must have set one before
   * it resolves. It
   * bounds the campaign as well as the term: a campaign whose deadline passes is ended with
   * the deadline's loss (its `signal` aborts), and the driver cleans up and rejects.
   */
  extendDeadline(at: number): void;
  /**
   * Names the loss that a passed deadline ends the term with, by the timer or by an
   * `isActive()` check: `deadline-passed` unless the driver knows more. ZooKeeper's says
   * `connection-lost`: by its deadline the server has heard nothing for a session timeout,
   * and the C client would report the expiry only after it reconnects. `describe` gives the
   * message, when the deadline has passed.
   */
  nameDeadlineLoss(reason: LossReason, describe: () => string): void;
  /**
   * No candidate is ahead of this one any more: what follows is the re-check. A driver calls
   * it when it sees its predecessor go, so that the `elected` event can time the part of a
   * handoff that this candidate controls. Not called when the line was empty at the join.
   */
  predecessorGone(): void;
  /** Ends the term. The first reason wins. */
  lose(reason: LossReason, message: string, cause?: unknown): void;
  /** Authority is in doubt (a disconnect): `isActive()` is false until {@link resume}. */
  suspend(cause: string): void;
  /** Authority is back after {@link suspend}. */
  resume(): void;
}

/** One campaign as the driver sees it. */
export interface CampaignRequest {
  /** The value to advertise while leading. */
  readonly value: string;
  /**
   * Aborted when the caller withdraws or the elector closes: the driver deletes what it made
   * and rejects. Once the driver resolved, the term's end is told by `term.signal`.
   */
  readonly signal: AbortSignal;
  /** Where to report on the term this campaign may win. */
  readonly term: TermControl;
}

/** A won campaign, as the driver hands it back. */
export interface ElectedTerm {
  /** The fencing token: the create revision or zxid of this candidate's key or node. */
  readonly token: bigint;
  /** Changes the advertised value if the key or node is still this term's. */
  proclaim(value: string, signal: AbortSignal): Promise<void>;
  /**
   * Deletes this term's key or node (or revokes its lease). Called once the term ended, for
   * any reason; called again if it failed and the caller retries `resign()`. Must succeed
   * when the key is already gone.
   */
  release(signal: AbortSignal): Promise<void>;
}

/** Receives the leader as a driver sees it change. */
export interface LeaderListener {
  /** The current leader first, then each change. Repeats are filtered by the caller. */
  change(leader: LeaderInfo | undefined): void;
  /** The observation cannot go on. */
  fail(error: Error): void;
}

/**
 * The part of a backend that differs between etcd, ZooKeeper and memory. `@elector/core` wraps
 * it in the one `Elector` implementation that keeps the contract's promises: never
 * "elected" after abort or close, one campaign at a time, deadlines, events, idempotent close.
 *
 * @remarks
 * A driver is one candidate with one connection. It need not guard against calls after
 * close, concurrent campaigns, or filter repeated leader changes: the wrapper does.
 */
export interface ElectionDriver {
  /** `memory`, `etcd`, `zookeeper`, … */
  readonly backend: string;
  /** Joins the line, waits to lead, re-checks, and resolves with the term. */
  campaign(request: CampaignRequest): Promise<ElectedTerm>;
  /** Every candidate in line order. */
  participants(signal: AbortSignal): Promise<Participant[]>;
  /** The current leader; defaults to the first of {@link participants}. */
  leader?(signal: AbortSignal): Promise<LeaderInfo | undefined>;
  /** Reports the leader and each change until `signal` aborts. */
  watchLeader(listener: LeaderListener, signal: AbortSignal): void;
  /** Releases the connection. Called once, after every campaign and term has settled. */
  close(): Promise<void>;
}

/** What every driver is told about its elector. */
export interface DriverContext {
  /** The election's name. */
  readonly election: string;
  /** The candidate's id. */
  readonly id: string;
  /** Already bound to `{ election, id }`. */
  readonly logger: Logger;
  /** Reports a background failure as the elector's `error` event. */
  report(error: Error): void;
}

/** A monotonic clock in milliseconds, the time base of every deadline. */
export function now(): number {
  return performance.now();
}
