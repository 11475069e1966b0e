import { BackendError } from "@elector/core";
import {
  isNoNode,
  ZooKeeperConnectionError,
  ZooKeeperSequenceExhaustedError,
  zooKeeperCode,
} from "./errors.js";
import {
  type CandidateData,
  encodeCandidate,
  isUsableSequence,
  newNodePrefix,
  sequenceOf,
  tokenOf,
} from "./line.js";
import { type NodeGone, NodeWatch } from "./node-watch.js";
import { codes } from "./protocol/codes.js";
import { retrying } from "./retrying.js";
import { type Session, SessionEndedError } from "./session.js";

/**
 * How many creates in a row may lose their connection, with no node there once connected
 * again, before the create counts as refused. A server drops the connection, without an
 * answer, on a request larger than its `jute.maxbuffer`: sent again, it is dropped again.
 */
export const maxDroppedCreates = 3;

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
  /** What the node holds, or will once the writes under way are applied. */
  #latest: CandidateData;
  /** Its owner was elected on it: each write keeps the mark (see {@link markElected}). */
  #elected = false;
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
    this.#latest = data;
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
   * @param onCreated called once the node exists, before it is read back: a request sent from
   * it follows the create in the session's order, so its answer shows the node, and it goes
   * out together with the read rather than one round trip after it.
   * @throws the signal's reason, SessionEndedError, ZooKeeperSequenceExhaustedError, or
   * BackendError (also when the server keeps dropping the create: see
   * {@link maxDroppedCreates}).
   */
  async join(
    signal: AbortSignal,
    onGone: (why: NodeGone) => void,
    onCreated?: () => void,
  ): Promise<void> {
    const path = await this.#createInLine(signal);
    this.#path = path;
    onCreated?.();
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
    this.#latest = data;
    try {
      await this.#session.setData(this.path, encodeCandidate(data, this.#elected));
      return true;
    } catch (error) {
      if (isNoNode(error)) return false;
      throw error;
    }
  }

  /**
   * Marks the node as the one its owner was elected on, with one write that fires the data
   * watch of the candidate behind it: that candidate then lists the line while this node still
   * stands, and needs no listing when it goes. Best effort: the mark is only a hint (see
   * isMarkedElected), and a candidate that misses it lists the line after the node goes.
   * Writes with any version, like {@link setData}, and in the session's order with it, so the
   * last value written stays the node's.
   */
  markElected(): void {
    this.#elected = true;
    this.#session.setData(this.path, encodeCandidate(this.#latest, true)).catch(() => {
      // Gone, or the session lost: the hint is not needed, or the next listing does without.
    });
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

  /**
   * Creates the node, and deletes it again if its sequence is used up (see line.ts). Then, if
   * the election node is empty, deletes that too, and creates once more under a new one,
   * whose counter starts at 0.
   *
   * @throws ZooKeeperSequenceExhaustedError if other candidates still hold the election node.
   */
  async #createInLine(signal: AbortSignal): Promise<string> {
    for (let renewed = false; ; renewed = true) {
      const path = await this.#create(signal);
      const sequence = sequenceOf(path.slice(this.#parent.length + 1)) ?? Number.NaN;
      if (isUsableSequence(sequence)) return path;
      // Known until it is gone, so that a campaign withdrawn meanwhile still deletes it.
      this.#path = path;
      await retrying(this.#session, signal, () => this.#deleteIfThere(path));
      this.#path = undefined;
      if (renewed || !(await this.#removeElectionNodeIfEmpty(signal))) {
        throw new ZooKeeperSequenceExhaustedError(this.#parent, sequence);
      }
    }
  }

  async #create(signal: AbortSignal): Promise<string> {
    let dropped = 0;
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
          dropped = 0;
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
      dropped += 1;
      if (dropped >= maxDroppedCreates) {
        // Nothing of ours is left but an election node we may have created for it. Whether
        // that goes or not, the value is what the caller must hear about.
        await this.#removeElectionNodeIfEmpty(signal).catch(() => false);
        throw new BackendError(
          `ZooKeeper dropped the connection each of the ${dropped} times the candidate node ${JSON.stringify(`${this.#parent}/${this.#prefix}`)} was sent (${Buffer.byteLength(this.#data)} bytes of data), and the node was not there afterwards: a server drops a request larger than its jute.maxbuffer (1 MiB by default) this way. Use a smaller value`,
        );
      }
    }
  }

  /**
   * Our node, if the create went through; a node of an earlier session is deleted.
   *
   * The list follows a `sync` of the election node, in the same attempt: the server we
   * reconnected to may be a follower that has not yet applied the create the quorum
   * committed, and a list there would miss our node and make us create a second one behind
   * it. The sync brings that server up to date with the leader first.
   */
  async #find(): Promise<string | undefined> {
    await this.#session.sync(this.#parent);
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

  async #deleteIfThere(path: string): Promise<void> {
    try {
      await this.#session.delete(path);
    } catch (error) {
      if (!isNoNode(error)) throw error;
    }
  }

  /**
   * Deletes the election node if it has no child; whether it is gone. Harmless to others: a
   * node with children cannot be deleted, and a candidate whose create then finds no parent
   * creates it again.
   */
  #removeElectionNodeIfEmpty(signal: AbortSignal): Promise<boolean> {
    return retrying(this.#session, signal, async () => {
      try {
        await this.#session.delete(this.#parent);
        return true;
      } catch (error) {
        if (isNoNode(error)) return true;
        if (zooKeeperCode(error) === codes.notEmpty) return false;
        throw error;
      }
    });
  }
}
