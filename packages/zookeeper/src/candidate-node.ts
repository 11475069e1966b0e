import { BackendError } from "@elector/core";
import { isNoNode, ZooKeeperConnectionError } from "./errors.js";
import { type CandidateData, encodeCandidate, newNodePrefix, tokenOf } from "./line.js";
import { type NodeGone, NodeWatch } from "./node-watch.js";
import { retrying } from "./retrying.js";
import { type Session, SessionEndedError } from "./session.js";

/**
 * One campaign's ephemeral-sequential node: created with a GUID prefix (Curator's
 * "protection") so that a create whose reply was lost can be found again, watched while it
 * lives, and deleted on every way out.
 */
export class CandidateNode {
  readonly #session: Session;
  readonly #parent: string;
  readonly #root: string;
  readonly #prefix = newNodePrefix();
  readonly #data: string;
  #ownWatch: NodeWatch | undefined;
  /** A create was sent and its outcome is unknown: a node with our prefix may exist. */
  #maybeCreated = false;
  #path: string | undefined;
  #token: bigint | undefined;
  #gone = false;

  /**
   * @param parent the election node.
   * @param root the configured root path: missing nodes below it are made containers.
   */
  constructor(session: Session, parent: string, root: string, data: CandidateData) {
    this.#session = session;
    this.#parent = parent;
    this.#root = root;
    this.#data = encodeCandidate(data);
  }

  /** The node's full path, once created. */
  get path(): string {
    if (this.#path === undefined) throw new Error("the candidate node was not created");
    return this.#path;
  }

  /** The node's name under the election node. */
  get name(): string {
    return this.path.slice(this.#parent.length + 1);
  }

  /** Whether the node's watch reported it gone (or no longer watchable). */
  get gone(): boolean {
    return this.#gone;
  }

  /** The node's czxid. */
  get token(): bigint {
    if (this.#token === undefined) throw new Error("the candidate node was not read");
    return this.#token;
  }

  /**
   * Creates the node (and its parents as needed), reads its czxid and checks that it belongs
   * to this session, then watches it.
   *
   * @param onGone called once if the node disappears or can no longer be watched.
   * @throws the signal's reason, SessionEndedError, or BackendError.
   */
  async join(signal: AbortSignal, onGone: (why: NodeGone) => void): Promise<void> {
    const path = await this.#create(signal);
    this.#path = path;
    const watch = new NodeWatch(this.#session, path, {
      gone: (why) => {
        this.#gone = true;
        onGone(why);
      },
    });
    this.#ownWatch = watch;
    const snapshot = await watch.start(signal);
    if (snapshot === undefined) {
      onGone("deleted");
      signal.throwIfAborted();
      throw new BackendError(`the candidate node ${JSON.stringify(path)} vanished once created`);
    }
    if (snapshot.stat.ephemeralOwner !== this.#session.id) {
      throw new BackendError(
        `the candidate node ${JSON.stringify(path)} belongs to session ${snapshot.stat.ephemeralOwner}, not to ours (${this.#session.id})`,
      );
    }
    this.#token = tokenOf(snapshot.stat, path);
  }

  /** Changes the node's data; false if the node is gone. */
  async setData(data: CandidateData): Promise<boolean> {
    try {
      await this.#session.setData(this.path, encodeCandidate(data));
      return true;
    } catch (error) {
      if (isNoNode(error)) return false;
      throw error;
    }
  }

  /** Stops watching the node, as the term is over. */
  stopWatching(): void {
    this.#ownWatch?.stop();
  }

  /**
   * Deletes the node; succeeds if it is already gone or its session ended (taking it along).
   * When the request fails, the session deletes it once it answers again.
   *
   * @throws ZooKeeperConnectionError if the delete got no answer.
   */
  async delete(): Promise<void> {
    this.stopWatching();
    if (this.#session.ended) return;
    if (this.#path === undefined) {
      if (this.#maybeCreated) this.#session.forget(this.#parent, this.#prefix);
      return;
    }
    try {
      await this.#session.delete(this.#path);
    } catch (error) {
      if (isNoNode(error) || this.#session.ended) return;
      this.#session.forget(this.#parent, this.name);
      throw error;
    }
  }

  async #create(signal: AbortSignal): Promise<string> {
    for (;;) {
      // Not raced with the signal: a create that is under way must settle before we know
      // what to delete.
      signal.throwIfAborted();
      this.#maybeCreated = true;
      try {
        const path = await this.#session.createEphemeralSequential(
          `${this.#parent}/${this.#prefix}`,
          this.#data,
        );
        this.#maybeCreated = false;
        return path;
      } catch (error) {
        if (isNoNode(error)) {
          this.#maybeCreated = false;
          await retrying(this.#session, signal, () =>
            this.#session.ensurePath(this.#parent, this.#root),
          );
          continue;
        }
        if (!(error instanceof ZooKeeperConnectionError) || error instanceof SessionEndedError) {
          throw error;
        }
      }
      // The reply was lost: the node may exist. Find it by its GUID once connected again.
      const found = await retrying(this.#session, signal, () => this.#find());
      this.#maybeCreated = false;
      if (found !== undefined) return found;
    }
  }

  /** Our node, if the create went through; a node of an earlier session is deleted. */
  async #find(): Promise<string | undefined> {
    const names = await this.#session.children(this.#parent);
    for (const name of names.filter((child) => child.startsWith(this.#prefix))) {
      const path = `${this.#parent}/${name}`;
      const stat = await this.#session.exists(path);
      if (stat === undefined) continue;
      if (stat.ephemeralOwner === this.#session.id) return path;
      await this.#session.delete(path).catch((error: unknown) => {
        if (!isNoNode(error)) throw error;
      });
    }
    return undefined;
  }
}
