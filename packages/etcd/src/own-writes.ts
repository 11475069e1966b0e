/**
 * Which puts on the candidate key are the candidate's own: a ledger of its writes, with no
 * I/O. The owner reports each write it sends and how it ended; the ledger judges each put that
 * the own key's watch (or a re-check) shows.
 *
 * A put is the candidate's own when its revision is that of a write etcd answered, or when it
 * carries the value of a proclaim that got no answer (a timeout, a broken connection, an
 * abort: etcd may have applied it) and comes before the next answered write. Writes are sent
 * one after the other on one connection, so etcd applies them in that order: a put of that
 * value at or after a later answered write is not the lost proclaim.
 *
 * Puts seen while a write of ours is under way are held: ours or not, its answer tells. `T` is
 * what the owner holds them as (the watch's key-value).
 */
export class OwnWrites<T> {
  // Both made on first use: a waiting candidate has written its key once and lost no proclaim,
  // and with a thousand of them on a client, empty tables are a large share of their heap.
  /** Revisions of the writes etcd answered, and of puts accepted as ours. */
  #revisions: Set<bigint> | undefined;
  /**
   * Values of proclaims that got no answer. Each maps to the revision of the next own write
   * that was answered, if any: a put of that value at or after it is not the lost proclaim.
   */
  #unanswered: Map<string, bigint | undefined> | undefined;
  #underWay = 0;
  #held: T[] = [];
  #modRevision = 0n;

  /** The mod revision of the own key as we last wrote or saw it. */
  get modRevision(): bigint {
    return this.#modRevision;
  }

  /** Whether a write of ours is under way: its outcome, and so the key's value, is unknown. */
  get writing(): boolean {
    return this.#underWay > 0;
  }

  /** How many lost proclaims are remembered; for tests. */
  get unansweredCount(): number {
    return this.#unanswered?.size ?? 0;
  }

  /** A write is sent. Call {@link end} once it settled, whatever the outcome. */
  begin(): void {
    this.#underWay++;
  }

  /**
   * A write settled.
   *
   * @returns the puts held meanwhile, to judge again, once no write is under way any more.
   */
  end(): T[] {
    this.#underWay--;
    if (this.#underWay > 0) return [];
    return this.#held.splice(0);
  }

  /** Holds a put that came while a write was under way; {@link end} gives it back. */
  hold(put: T): void {
    this.#held.push(put);
  }

  /** The create went through: the key was created at `revision`. */
  created(revision: bigint): void {
    this.#revision(revision);
    this.#modRevision = revision;
  }

  /** An earlier create was applied although its answer was lost: the key as found. */
  adopted(createRevision: bigint, modRevision: bigint): void {
    this.#revision(createRevision);
    this.#revision(modRevision);
    this.#modRevision = modRevision;
  }

  /**
   * A proclaim was answered: applied at `revision`. It bounds every lost proclaim that had no
   * bound yet: sent before it, they were applied before it or never.
   */
  answered(revision: bigint): void {
    this.#revision(revision);
    if (revision > this.#modRevision) this.#modRevision = revision;
    const unanswered = this.#unanswered;
    if (unanswered === undefined) return;
    for (const [value, before] of unanswered) {
      if (before === undefined) unanswered.set(value, revision);
    }
  }

  /** A proclaim of `value` got no answer: etcd may have applied it, or may still. */
  unanswered(value: string): void {
    this.#unanswered ??= new Map();
    this.#unanswered.set(value, undefined);
  }

  /**
   * Whether a put on the own key (with our create revision and lease) is one of our writes: one
   * answered at its revision, or a proclaim that got no answer, applied before any later
   * answered write.
   */
  isOwn(modRevision: bigint, value: string): boolean {
    if (this.#revisions?.has(modRevision) === true) return true;
    if (this.#unanswered?.has(value) !== true) return false;
    const before = this.#unanswered.get(value);
    return before === undefined || modRevision < before;
  }

  /**
   * The own key is at `revision`, written by us. Watch events come in revision order, so no
   * earlier put can come any more: lost proclaims bounded by this revision are forgotten.
   */
  accept(revision: bigint): void {
    this.#revision(revision);
    if (revision > this.#modRevision) this.#modRevision = revision;
    const unanswered = this.#unanswered;
    if (unanswered === undefined) return;
    for (const [value, before] of unanswered) {
      if (before !== undefined && before <= revision) unanswered.delete(value);
    }
  }

  #revision(revision: bigint): void {
    this.#revisions ??= new Set();
    this.#revisions.add(revision);
  }
}
