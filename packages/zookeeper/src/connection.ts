import { BackendError, type Logger } from "@elector/core";
import { ZooKeeperClient } from "./protocol/client.js";
import { type ClientFactory, Session, SessionEndedError } from "./session.js";

/** The protocol client of every session, unless a test stands in for it. */
const protocolClient: ClientFactory = (options) => new ZooKeeperClient(options);

/**
 * An elector's link to ZooKeeper: the current {@link Session}, opened on first use and
 * replaced by a new one once it has ended (expired), so that the next campaign runs on a new
 * session.
 */
export class Connection {
  readonly #createClient: ClientFactory;
  readonly #servers: readonly string[];
  readonly #requestedTimeoutMs: number;
  readonly #safetyMarginMs: number;
  readonly #logger: Logger;
  #session: Session | undefined;
  #closed = false;

  constructor(
    options: {
      servers: readonly string[];
      sessionTimeoutMs: number;
      safetyMarginMs: number;
      logger: Logger;
    },
    createClient: ClientFactory = protocolClient,
  ) {
    this.#createClient = createClient;
    this.#servers = options.servers;
    this.#requestedTimeoutMs = options.sessionTimeoutMs;
    this.#safetyMarginMs = options.safetyMarginMs;
    this.#logger = options.logger;
  }

  /** The session in use, if one was opened and has not ended. */
  get current(): Session | undefined {
    return this.#session?.ended === false ? this.#session : undefined;
  }

  /**
   * The session in use, connected; a new one if the last one ended.
   *
   * @param timeoutMs how long to wait for a connection; none: as long as `signal` allows.
   * @throws ConnectionError if no connection was made within `timeoutMs`.
   */
  async acquire(signal: AbortSignal, timeoutMs?: number): Promise<Session> {
    for (;;) {
      signal.throwIfAborted();
      if (this.#closed) throw new BackendError("the elector's ZooKeeper connection is closed");
      if (this.#session === undefined || this.#session.ended) {
        this.#session = new Session(this.#createClient, {
          servers: this.#servers,
          requestedTimeoutMs: this.#requestedTimeoutMs,
          safetyMarginMs: this.#safetyMarginMs,
          logger: this.#logger,
        });
      }
      const session = this.#session;
      try {
        await session.ready(signal, timeoutMs);
        return session;
      } catch (error) {
        // A session that ended while we waited is replaced; anything else is the caller's.
        if (!(error instanceof SessionEndedError) || signal.aborted || this.#closed) throw error;
      }
    }
  }

  /** Closes the session: the server deletes its ephemeral nodes. */
  close(): void {
    this.#closed = true;
    this.#session?.close();
  }
}
