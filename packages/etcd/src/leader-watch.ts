import type { LeaderInfo } from "@elector/core";
import { delay, type LeaderListener } from "@elector/core/backend";
import { backendError } from "./client.js";
import { KeyWatch } from "./key-watch.js";
import { type LeaderRead, readLeader, toLeader } from "./line.js";
import { retrying } from "./retry.js";
import type { EtcdSettings } from "./settings.js";

/**
 * Follows the leader of one election for `observe()`. While there is a leader it watches
 * only the leader's key (a value change is reported from the event; a delete means reading
 * the line again); while there is none, it watches the candidates' range for the first put.
 * Candidates joining behind the leader wake nobody.
 */
export class LeaderWatch {
  readonly #settings: EtcdSettings;
  readonly #listener: LeaderListener;
  readonly #signal: AbortSignal;

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
    let outOfStep = 0;
    while (!signal.aborted) {
      const read = await retrying(() => readLeader(this.#settings), {
        signal,
        onRetry: (error) =>
          this.#settings.logger.debug({ err: error }, "reading the leader failed; retrying"),
      });
      this.#listener.change(read.leader);
      const inStep = await this.#follow(read, outOfStep < 2);
      if (inStep === undefined) await delay(200, signal);
      outOfStep = inStep === true ? 0 : outOfStep + 1;
    }
  }

  /**
   * Watches from the read until the leader may have changed.
   *
   * @param leaveOutOfStep whether to return at once if the watch began out of step with the
   * read (etcd would deliver its first events up to 100 ms late).
   * @returns whether the watch began in step, or undefined if it did not start.
   */
  async #follow(read: LeaderRead, leaveOutOfStep: boolean): Promise<boolean | undefined> {
    const signal = this.#signal;
    const { client, keys } = this.#settings;
    let leader = read.leader;
    let reread: () => void = () => {};
    const changed = new Promise<void>((resolve) => {
      reread = resolve;
    });
    let started: { watch: KeyWatch; inStep: boolean };
    try {
      started = await KeyWatch.start(
        client,
        read.key ?? keys.candidates,
        read.revision,
        {
          changed: (type, kv) => {
            if (read.key !== undefined && type === "put" && leader !== undefined) {
              leader = { ...toLeader(kv, leader.id) } satisfies LeaderInfo;
              this.#listener.change(leader);
            } else {
              reread();
            }
          },
          interrupted: () => reread(),
        },
        signal,
      );
    } catch (error) {
      if (signal.aborted) return true;
      this.#settings.logger.debug({ err: error }, "the leader watch did not start");
      return undefined;
    }
    const onAbort = () => reread();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      if (started.inStep || !leaveOutOfStep) await changed;
    } finally {
      signal.removeEventListener("abort", onAbort);
      started.watch.close();
    }
    return started.inStep;
  }
}
