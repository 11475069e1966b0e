import {
  type ElectorOptions,
  InvalidOptionError,
  type Leadership,
  type ReadOptions,
  type ZooKeeperConfig,
} from "@elector/core";
import {
  type BackendElectorOptions,
  DrivenElector,
  type ResolvedZooKeeperConfig,
  resolveAndBind,
} from "@elector/core/backend";
import { ZooKeeperStaleLeaderError } from "./errors.js";
import type { Op, OpResult } from "./protocol/records.js";
import { ZooKeeperDriver } from "./zookeeper-driver.js";

/** One write of a {@link ZooKeeperElector.guardedMulti}: a create, delete, setData or check. */
export type ZooKeeperOp = Op;
/** What one {@link ZooKeeperOp} of an applied guarded write returned, in the same order. */
export type ZooKeeperOpResult = OpResult;

const opTypes = new Set(["create", "delete", "setData", "check"]);

// Module-private: lets this package's own tooling reach an elector's driver without making
// the session's password part of the public API.
const drivers = new WeakMap<ZooKeeperElector, ZooKeeperDriver>();

/**
 * An `Elector` on ZooKeeper. `createElector("zk://…")` makes the same elector, typed as
 * `Elector`. See the package's README for the node layout and what suspends or ends a term.
 */
export class ZooKeeperElector extends DrivenElector {
  readonly #driver: ZooKeeperDriver;
  readonly #configuredMarginMs: number;

  constructor(config: ResolvedZooKeeperConfig, options: BackendElectorOptions) {
    let driver: ZooKeeperDriver | undefined;
    super(options, (context) => {
      driver = new ZooKeeperDriver(config, context);
      return driver;
    });
    this.#driver = driver as ZooKeeperDriver;
    this.#configuredMarginMs = config.safetyMarginMs;
    drivers.set(this, this.#driver);
  }

  /**
   * The id of the session in use, in hex as ZooKeeper's logs and four-letter words (`cons`,
   * `wchc`) print it; undefined before the first connection and after the session ended.
   */
  get sessionId(): string | undefined {
    return this.#driver.session?.id;
  }

  /**
   * The safety margin in use, in milliseconds: the configured one until the first connection,
   * then the one recomputed from the session timeout that the server granted (at most half
   * of it). `elector run` waits this long for its command to exit after a loss.
   */
  get safetyMarginMs(): number {
    return this.#driver.session?.marginMs ?? this.#configuredMarginMs;
  }

  /** The znode whose children are this election's candidates: `<path>/<election>`. */
  get electionPath(): string {
    return this.#driver.electionPath;
  }

  /**
   * Applies `ops` in one ZooKeeper `multi`, together with a check that the leader's node of
   * `leadership` still exists: all of them only while that term holds on the server, none
   * once its node is gone, however late the request arrives. It is what `guardedTxn` of
   * `@elector/fencing` is on etcd: the guarded write on the coordination store itself. A
   * successor is elected only after the node is gone, so an applied write never overlaps one.
   *
   * @param leadership a term of this elector, from `campaign()` or `lead()`.
   * @param ops creates, deletes, setData and checks, with data as Buffers and versions (-1
   *   for any version).
   * @returns one result per op, in order.
   * @throws LeadershipLostError (the term's `signal.reason`) if the term has ended here.
   * @throws ZooKeeperStaleLeaderError if the server found the leader's node gone.
   * @throws ZooKeeperRequestError if one of `ops` failed (its `index` says which); nothing
   *   was applied.
   * @throws ZooKeeperConnectionError if the connection failed: the write may have applied.
   *
   * @example
   * ```ts
   * await elector.guardedMulti(leadership, [
   *   { type: "setData", path: "/billing/last-run", data: Buffer.from(now), version: -1 },
   * ]);
   * ```
   */
  async guardedMulti(
    leadership: Leadership,
    ops: readonly ZooKeeperOp[],
    options: ReadOptions = {},
  ): Promise<ZooKeeperOpResult[]> {
    if (
      typeof leadership !== "object" ||
      leadership === null ||
      leadership.election !== this.election ||
      leadership.id !== this.id
    ) {
      throw new InvalidOptionError("leadership", leadership, "a term of this elector");
    }
    if (!Array.isArray(ops) || !ops.every((op) => opTypes.has(op?.type))) {
      throw new InvalidOptionError("ops", ops, "an array of create, delete, setData or check ops");
    }
    const signal = options.signal ?? new AbortController().signal;
    signal.throwIfAborted();
    const results = await this.#driver.guardedMulti(leadership.token, ops, signal);
    if (results !== undefined) return results;
    if (leadership.signal.aborted) throw leadership.signal.reason;
    throw new ZooKeeperStaleLeaderError(this.electionPath, leadership.token);
  }
}

/** @internal The driver behind an elector, for this package's test tooling. */
export function driverOf(elector: ZooKeeperElector): ZooKeeperDriver | undefined {
  return drivers.get(elector);
}

/** Options of {@link createZooKeeperElector}: the elector's and the backend's, in one object. */
export interface ZooKeeperElectorOptions extends ElectorOptions, Omit<ZooKeeperConfig, "backend"> {}

/**
 * Creates an elector on ZooKeeper from one options object, typed as {@link ZooKeeperElector}.
 * `createElector("zk://…")` makes the same elector from a URL. It connects on first use;
 * `close()` ends its session.
 *
 * @throws InvalidOptionError when an option is wrong; the message names it and its value.
 *
 * @example
 * ```ts
 * const elector = await createZooKeeperElector({
 *   servers: ["zk1:2181", "zk2:2181", "zk3:2181"],
 *   sessionTimeoutMs: 10_000,
 *   election: "billing-cron",
 * });
 * ```
 */
export async function createZooKeeperElector(
  options: ZooKeeperElectorOptions,
): Promise<ZooKeeperElector> {
  const { election, id, logger, ...zookeeper } = options;
  // Core's resolve-and-bind step validates both in one place; then this copy's own class.
  const bound = resolveAndBind(
    { ...zookeeper, backend: "zookeeper" },
    {
      election,
      ...(id === undefined ? {} : { id }),
      ...(logger === undefined ? {} : { logger }),
    },
  );
  return new ZooKeeperElector(bound.config, bound.options);
}

/**
 * Opens an elector for `createElector("zk://…")`, which loads this package only when
 * ZooKeeper is chosen. Connecting is lazy: unreachable servers show in `campaign()` and the
 * reads, as a ConnectionError after the session timeout.
 */
export async function openElector(
  config: ResolvedZooKeeperConfig,
  options: BackendElectorOptions,
): Promise<ZooKeeperElector> {
  return new ZooKeeperElector(config, options);
}
