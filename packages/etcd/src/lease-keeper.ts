import { type Logger, silentLogger } from "@elector/core";
import { now } from "@elector/core/backend";
import {
  EtcdLeaseInvalidError,
  type IDuplexStream,
  type ILeaseKeepAliveRequest,
  type ILeaseKeepAliveResponse,
  type ILeaseTimeToLiveRequest,
  type ILeaseTimeToLiveResponse,
} from "etcd3";
import pRetry from "p-retry";
import { callOptions } from "./client.js";

/** The part of an `Etcd3` client that keeps leases alive. */
export interface KeepAliveClient {
  readonly leaseClient: {
    leaseKeepAlive(): Promise<IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>>;
    leaseTimeToLive(
      request: ILeaseTimeToLiveRequest,
      options?: { deadline: Date },
    ): Promise<ILeaseTimeToLiveResponse>;
  };
}

/** What the keeper tells the owner of one lease. */
export interface LeaseListener {
  /**
   * The server acknowledged a keep-alive.
   *
   * @param sentAt when that keep-alive was sent, in `performance.now()` milliseconds.
   * @param ttlSeconds the TTL the server granted: the lease outlives `sentAt` by at least this.
   */
  renewed(sentAt: number, ttlSeconds: number): void;
  /** The server answered a keep-alive with TTL ≤ 0: the lease is gone. It is no longer kept. */
  expired(): void;
}

/** Backoff between attempts to open the stream. */
export interface KeeperBackoff {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

interface KeptLease {
  readonly id: string;
  readonly intervalMs: number;
  readonly listener: LeaseListener;
  /** Send times of the keep-alives not yet answered on the current stream, oldest first. */
  readonly pending: number[];
  timer: NodeJS.Timeout | undefined;
}

type Stream = IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>;

const keepers = new WeakMap<object, LeaseKeeper>();

/**
 * A stream is replaced once a keep-alive has gone unanswered this many intervals. Keep-alives
 * go out every interval whatever the earlier ones' fate, and each answer counts from its own
 * send time, so a round trip up to TTL − margin − one interval keeps the term (two intervals
 * with a zero margin): a stream that is merely slow must not be taken for a dead one.
 */
const patienceIntervals = 2;

/**
 * Keeps leases alive over one `LeaseKeepAlive` stream per client, shared by every elector on
 * that client, as Go's `clientv3.Lease` does. Each lease is renewed every TTL/3. Unlike the
 * etcd3 client's own `Lease`, it reports the *send* time of each acknowledged keep-alive,
 * which is what a safe local deadline counts from.
 *
 * @remarks
 * etcd answers the keep-alives of one stream in order (it renews one request at a time), so
 * the oldest unanswered send time of a lease belongs to the next answer for it. Keep-alives
 * are sent on schedule without waiting for the previous answer. A stream that errs, ends, or
 * leaves a keep-alive unanswered for two intervals is replaced, with p-retry backoff; the
 * unanswered send times are dropped, since those answers cannot come.
 */
export class LeaseKeeper {
  readonly #client: KeepAliveClient;
  readonly #logger: Logger;
  readonly #backoff: KeeperBackoff;
  readonly #leases = new Map<string, KeptLease>();
  #stream: Stream | undefined;
  /** Set while (re)opening the stream; aborted when no lease is left. */
  #connecting: AbortController | undefined;
  /** Counts streams, so that a stale stream's late events are ignored. */
  #generation = 0;
  /** When the current stream last answered anything. */
  #answeredAt = Number.NEGATIVE_INFINITY;

  constructor(
    client: KeepAliveClient,
    logger: Logger = silentLogger,
    backoff: KeeperBackoff = { minDelayMs: 100, maxDelayMs: 1000 },
  ) {
    this.#client = client;
    this.#logger = logger;
    this.#backoff = backoff;
  }

  /** The keeper of `client`, made on first use: one stream per client. */
  static of(client: KeepAliveClient, logger?: Logger): LeaseKeeper {
    let keeper = keepers.get(client);
    if (keeper === undefined) {
      keeper = new LeaseKeeper(client, logger?.child({ component: "lease-keeper" }));
      keepers.set(client, keeper);
    }
    return keeper;
  }

  /** How many leases are kept now. */
  get size(): number {
    return this.#leases.size;
  }

  /**
   * Keeps `leaseId` alive, every `ttlSeconds`/3, until the returned function is called or the
   * server says the lease expired.
   *
   * @returns a function that stops keeping the lease (it then expires on the server, unless
   * revoked first).
   */
  keep(leaseId: string, ttlSeconds: number, listener: LeaseListener): () => void {
    this.#forget(leaseId);
    const lease: KeptLease = {
      id: leaseId,
      intervalMs: Math.max(1, Math.floor((ttlSeconds * 1000) / 3)),
      listener,
      pending: [],
      timer: undefined,
    };
    // Ref'd: a candidacy the app holds depends on these keep-alives alone, as memory's
    // renewals (the timer rule of packages/core/README.md).
    lease.timer = setInterval(() => this.#tick(lease), lease.intervalMs);
    this.#leases.set(leaseId, lease);
    if (this.#stream === undefined && this.#connecting === undefined) void this.#connect();
    return () => {
      if (this.#leases.get(leaseId) === lease) this.#forget(leaseId);
    };
  }

  #forget(leaseId: string): void {
    const lease = this.#leases.get(leaseId);
    if (lease === undefined) return;
    clearInterval(lease.timer);
    this.#leases.delete(leaseId);
    if (this.#leases.size > 0) return;
    // Nothing left to keep: end the stream politely (a cancel would reset the connection).
    this.#connecting?.abort();
    this.#connecting = undefined;
    const stream = this.#stream;
    this.#stream = undefined;
    this.#generation++;
    stream?.end();
  }

  #tick(lease: KeptLease): void {
    const stream = this.#stream;
    if (stream === undefined) return; // the connect loop sends to every lease once open
    const oldest = lease.pending[0];
    const patienceMs = lease.intervalMs * patienceIntervals;
    if (oldest === undefined || now() - oldest < patienceMs) {
      // On schedule, answered or not: under latency the answers come late, but each one
      // still counts from its own send time.
      this.#send(stream, lease);
      return;
    }
    // Unanswered for too long. After a stall of this process (a GC pause, a busy loop)
    // timers run before the answers already received are read: look again once they are. A
    // stream that answered anything since is alive (etcd answers in order).
    setImmediate(() => {
      if (this.#stream !== stream || this.#leases.get(lease.id) !== lease) return;
      if (lease.pending[0] !== oldest || this.#answeredAt >= oldest) {
        this.#send(stream, lease);
        return;
      }
      this.#replace(stream, new Error(`no answer to a keep-alive in ${patienceMs} ms`));
    });
  }

  #send(stream: Stream, lease: KeptLease): void {
    lease.pending.push(now());
    stream.write({ ID: lease.id });
  }

  #receive(response: ILeaseKeepAliveResponse): void {
    this.#answeredAt = now();
    const lease = this.#leases.get(response.ID);
    const sentAt = lease?.pending.shift();
    if (lease === undefined || sentAt === undefined) return;
    const ttlSeconds = Number(response.TTL);
    if (ttlSeconds > 0) {
      lease.listener.renewed(sentAt, ttlSeconds);
    } else {
      this.#forget(lease.id);
      lease.listener.expired();
    }
  }

  /** Drops a failed stream and opens another. */
  #replace(stream: Stream, error: Error): void {
    if (this.#stream !== stream) return;
    this.#logger.warn({ err: error }, "the lease keep-alive stream failed; reopening it");
    this.#stream = undefined;
    this.#generation++;
    // A cancel makes etcd3 reset the host's connection, which a silent stream needs.
    stream.cancel();
    if (error instanceof EtcdLeaseInvalidError) void this.#audit();
    void this.#connect();
  }

  /**
   * etcd answers a keep-alive for a lease it does not know with TTL 0, but a proxy in between
   * may end the stream with "lease not found" instead, without saying which lease. Ask for
   * each one; those that are gone are reported expired, never kept alive again.
   */
  async #audit(): Promise<void> {
    await Promise.all(
      [...this.#leases.values()].map(async (lease) => {
        try {
          const { TTL } = await this.#client.leaseClient.leaseTimeToLive(
            { ID: lease.id },
            callOptions(lease.intervalMs),
          );
          if (Number(TTL) > 0 || this.#leases.get(lease.id) !== lease) return;
          this.#forget(lease.id);
          lease.listener.expired();
        } catch (error) {
          this.#logger.debug({ err: error, lease: lease.id }, "could not ask for a lease's TTL");
        }
      }),
    );
  }

  /** Opens the stream, with backoff, until a keep-alive is answered or no lease is left. */
  async #connect(): Promise<void> {
    if (this.#connecting !== undefined || this.#leases.size === 0) return;
    const connecting = new AbortController();
    this.#connecting = connecting;
    try {
      await pRetry(() => this.#open(connecting.signal), {
        retries: Number.POSITIVE_INFINITY,
        factor: 2,
        minTimeout: this.#backoff.minDelayMs,
        maxTimeout: this.#backoff.maxDelayMs,
        randomize: true,
        signal: connecting.signal,
        onFailedAttempt: ({ error, attemptNumber }) =>
          this.#logger.debug({ err: error, attemptNumber }, "could not open the keep-alive stream"),
      });
    } catch {
      // Aborted: no lease is left.
    } finally {
      if (this.#connecting === connecting) this.#connecting = undefined;
    }
    // The new stream may have failed before this loop ended: start another.
    if (this.#stream === undefined && this.#leases.size > 0 && !connecting.signal.aborted) {
      void this.#connect();
    }
  }

  /** One attempt: resolves once the new stream answered a keep-alive. */
  async #open(signal: AbortSignal): Promise<void> {
    const stream = await this.#client.leaseClient.leaseKeepAlive();
    const leases = [...this.#leases.values()];
    if (signal.aborted || leases.length === 0) {
      stream.end();
      return;
    }
    const generation = ++this.#generation;
    const current = () => this.#generation === generation;
    let answered: () => void = () => {};
    let failed: (error: Error) => void = () => {};
    const firstAnswer = new Promise<void>((resolve, reject) => {
      answered = resolve;
      failed = reject;
    });
    const broken = (error: Error) => {
      if (!current()) return;
      if (this.#stream === stream) {
        this.#replace(stream, error);
      } else {
        this.#generation++;
        failed(error);
      }
    };
    stream.on("data", (response) => {
      if (!current()) return;
      if (this.#stream !== stream) {
        this.#stream = stream;
        answered();
      }
      this.#receive(response);
    });
    stream.on("error", (error) => broken(castError(error)));
    stream.on("end", () => broken(new Error("the keep-alive stream ended")));
    for (const lease of leases) {
      // Answers to keep-alives sent on an earlier stream cannot come any more.
      lease.pending.length = 0;
      this.#send(stream, lease);
    }
    // No answer within the patience of the shortest interval: no better than the last stream.
    const patienceMs = Math.min(...leases.map((lease) => lease.intervalMs)) * patienceIntervals;
    // Ref'd: the keep-alives wait on it alone to replace a stream that went silent.
    const timer = setTimeout(
      () => broken(new Error(`no answer to a keep-alive in ${patienceMs} ms`)),
      patienceMs,
    );
    const onAbort = () => failed(new Error("no lease is left to keep"));
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      await firstAnswer;
    } catch (error) {
      if (signal.aborted) stream.end();
      else stream.cancel();
      throw error;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }
}

/** The keep-alive stream's errors come raw from gRPC; etcd3 types them for unary calls only. */
function castError(error: Error): Error {
  return error.message.includes("requested lease not found")
    ? new EtcdLeaseInvalidError(error.message)
    : error;
}
