import type { LeaderInfo, Participant } from "@elector/core";
import type {
  CampaignRequest,
  ElectedTerm,
  ElectionDriver,
  LeaderListener,
} from "@elector/core/backend";
import { Candidacy } from "./candidacy.js";
import { backendError } from "./client.js";
import { LeaderWatch } from "./leader-watch.js";
import { readLeader, readLine } from "./line.js";
import { retrying } from "./retry.js";
import type { EtcdSettings } from "./settings.js";

/** The etcd backend's driver: one candidate on one (possibly shared) client. */
export class EtcdDriver implements ElectionDriver {
  readonly backend = "etcd";
  readonly #settings: EtcdSettings;
  /** Gives back the election's watch, and closes the client if the elector made it. */
  readonly #closeClient: () => void;

  constructor(settings: EtcdSettings, closeClient: () => void) {
    this.#settings = settings;
    this.#closeClient = closeClient;
  }

  campaign(request: CampaignRequest): Promise<ElectedTerm> {
    return new Candidacy(this.#settings, request).run();
  }

  participants(signal: AbortSignal): Promise<Participant[]> {
    return this.#read("reading the line", signal, () => readLine(this.#settings));
  }

  leader(signal: AbortSignal): Promise<LeaderInfo | undefined> {
    return this.#read("reading the leader", signal, async () => {
      return (await readLeader(this.#settings)).leader;
    });
  }

  watchLeader(listener: LeaderListener, signal: AbortSignal): void {
    new LeaderWatch(this.#settings, listener, signal).start();
  }

  async close(): Promise<void> {
    this.#closeClient();
  }

  /** A read, retried on transient errors for up to one request timeout. */
  async #read<T>(what: string, signal: AbortSignal, read: () => Promise<T>): Promise<T> {
    try {
      return await retrying(read, {
        signal,
        maxRetryTimeMs: this.#settings.requestTimeoutMs,
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw backendError(what, error);
    }
  }
}
