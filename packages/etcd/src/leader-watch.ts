import type { LeaderInfo } from "@elector/core";
import { delay, type LeaderListener } from "@elector/core/backend";
import type { IKeyValue } from "etcd3";
import { backendError, callOptions } from "./client.js";
import { KeyWatch } from "./key-watch.js";
import { keySuffix } from "./keys.js";
import { isCompacted, type LineRead, readLineAt, toLeader } from "./line.js";
import { retrying } from "./retry.js";
import type { EtcdSettings } from "./settings.js";

/** A candidate as the watch last saw it. */
interface Candidate {
  readonly key: Buffer;
  readonly createRevision: bigint;
  readonly kv: IKeyValue;
}

/**
 * Follows the leader of one election for `observe()`: reads the line once, then replays
 * every change of the candidates' range from that read's revision, and derives the leader
 * after each revision. So it reports every leader, every value and every "no leader" in
 * order, even a leader that was gone before a read could have seen it, and however far the
 * caller lags behind.
 *
 * @remarks
 * Every candidate that joins or leaves wakes each observer (one event): the price of not
 * reading the line again after a leader goes, which would skip what happened meanwhile.
 * Only a broken watch (or one whose revision etcd compacted before it caught up) makes it
 * read the line again; what changed in that gap is gone from etcd's history.
 */
export class LeaderWatch {
  readonly #settings: EtcdSettings;
  readonly #listener: LeaderListener;
  readonly #signal: AbortSignal;
  /** The ids of leases met so far (an id key never changes while its lease lives). */
  readonly #ids = new Map<string, string>();

  constructor(settings: EtcdSettings, listener: LeaderListener, signal: AbortSignal) {
    this.#settings = settings;
    this.#listener = listener;
    this.#signal = signal;
  }

  start(): void {
    this.#run().catch((error: unknown) => {
      if (this.#signal.aborted) return;
      this.#listener.fail(backendError("watching the leader", error));
    });
  }

  async #run(): Promise<void> {
    const signal = this.#signal;
    while (!signal.aborted) {
      const read = await retrying(() => readLineAt(this.#settings), {
        signal,
        onRetry: (error) =>
          this.#settings.logger.debug({ err: error }, "reading the line failed; retrying"),
      });
      if (!(await this.#follow(read))) await delay(200, signal);
    }
  }

  /**
   * Reports the leader of `read`, then of each revision after it, until the watch breaks or
   * the signal aborts.
   *
   * @returns whether the watch started.
   */
  async #follow(read: LineRead): Promise<boolean> {
    const signal = this.#signal;
    const { client, keys } = this.#settings;
    for (const [lease, id] of read.ids) this.#ids.set(lease, id);
    const line = new Map<string, Candidate>();
    for (const kv of read.candidates) {
      line.set(kv.key.toString(), {
        key: kv.key,
        createRevision: BigInt(kv.create_revision),
        kv,
      });
    }
    let revision = read.revision;
    // Changes are applied one revision at a time, in order; reading an id may take a while.
    const queue: { type: "put" | "delete"; kv: IKeyValue }[] = [];
    let reported: string | undefined;
    let draining: Promise<void> = Promise.resolve();
    let failed: unknown;
    let wake: () => void = () => {};
    const interrupted = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const report = async (atRevision: bigint) => {
      const first = leaderOf(line);
      const leader =
        first === undefined ? undefined : await this.#leaderInfo(first, atRevision, signal);
      const identity =
        leader === undefined ? "" : `${leader.id}\u0000${leader.token}\u0000${leader.value}`;
      if (identity === reported) return;
      reported = identity;
      this.#settings.logger.debug(
        { revision: atRevision.toString(), token: leader?.token.toString() },
        "the leader changed",
      );
      if (!signal.aborted) this.#listener.change(leader);
    };
    const drain = async () => {
      while (queue.length > 0) {
        const event = queue.shift() as { type: "put" | "delete"; kv: IKeyValue };
        const eventRevision = BigInt(event.kv.mod_revision);
        // A new revision begins: the line is complete at the one before.
        if (eventRevision !== revision) await report(revision);
        revision = eventRevision;
        const name = event.kv.key.toString();
        if (event.type === "delete") {
          line.delete(name);
          this.#ids.delete(keySuffix(event.kv.key, keys.candidates));
        } else {
          line.set(name, {
            key: event.kv.key,
            createRevision: BigInt(event.kv.create_revision),
            kv: event.kv,
          });
        }
      }
      await report(revision);
    };
    const settled = () => {
      draining = draining.then(drain).catch((error: unknown) => {
        failed ??= error;
        wake();
      });
    };

    await report(revision);
    let watch: KeyWatch;
    try {
      ({ watch } = await KeyWatch.start(
        client,
        keys.candidates,
        read.revision,
        {
          changed: (type, kv) => {
            if (keys.isCandidate(kv.key)) queue.push({ type, kv });
          },
          settled,
          interrupted: (error) => {
            this.#settings.logger.debug({ err: error }, "the leader watch was interrupted");
            wake();
          },
        },
        signal,
      ));
    } catch (error) {
      if (signal.aborted) return true;
      this.#settings.logger.debug({ err: error }, "the leader watch did not start");
      return false;
    }
    signal.addEventListener("abort", wake, { once: true });
    try {
      await interrupted;
      await draining;
      if (failed !== undefined && !signal.aborted) throw failed;
    } finally {
      signal.removeEventListener("abort", wake);
      watch.close();
    }
    return true;
  }

  /** The leader a candidate key describes, with its id as of `revision`. */
  async #leaderInfo(
    candidate: Candidate,
    revision: bigint,
    signal: AbortSignal,
  ): Promise<LeaderInfo> {
    const { keys } = this.#settings;
    const lease = keySuffix(candidate.key, keys.candidates);
    let id = this.#ids.get(lease);
    if (id === undefined) {
      id = await retrying(() => this.#readId(lease, revision), { signal });
      this.#ids.set(lease, id);
    }
    return toLeader(candidate.kv, id);
  }

  /**
   * The id of a lease, read at `revision`, or at the latest if etcd compacted that (the id
   * key does not change while its lease lives); the lease hex for a candidate without one.
   */
  async #readId(lease: string, revision: bigint): Promise<string> {
    const { client, keys, requestTimeoutMs } = this.#settings;
    const read = (at: bigint | undefined) =>
      client.kv.range(
        { key: keys.id(lease), ...(at === undefined ? {} : { revision: at.toString() }) },
        callOptions(requestTimeoutMs),
      );
    let found: string | undefined;
    try {
      found = (await read(revision)).kvs[0]?.value.toString();
    } catch (error) {
      if (!isCompacted(error)) throw error;
      found = (await read(undefined)).kvs[0]?.value.toString();
    }
    return found ?? lease;
  }
}

/** The candidate with the lowest create revision. */
function leaderOf(line: ReadonlyMap<string, Candidate>): Candidate | undefined {
  let first: Candidate | undefined;
  for (const candidate of line.values()) {
    if (first === undefined || candidate.createRevision < first.createRevision) first = candidate;
  }
  return first;
}
