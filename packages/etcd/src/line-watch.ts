import type { Logger } from "@elector/core";
import { raceSignal } from "@elector/core/backend";
import type { IKeyValue } from "etcd3";
import type { KeyWatchListener } from "./key-watch.js";
import type { KeyRange } from "./keys.js";

/** A watch of a range that etcd created "from now", and the revision of its created answer. */
export interface CreatedRangeWatch {
  readonly watch: { close(): void };
  /**
   * The header revision H of etcd's created answer: every change of revision > H comes on
   * this watch, in revision order, unless it is interrupted first.
   */
  readonly revision: bigint;
}

/** Opens a watch of `range` from now; see {@link CreatedRangeWatch}. */
export type RangeWatchOpener = (
  range: KeyRange,
  listener: KeyWatchListener,
  signal: AbortSignal,
) => Promise<CreatedRangeWatch>;

/** What a listener of one key in a {@link Line} is told. */
export interface LineKeyListener {
  /** A change of the key, in revision order with every other change of the range. */
  changed(type: "put" | "delete", kv: IKeyValue): void;
  /** Every change of the answer that carried a change of the key was dispatched. */
  settled?(): void;
  /** The line's watch broke: changes may be missed from now on. Told once. */
  interrupted(error: Error): void;
}

/** The deletes one {@link Line} saw while the log was open: key → latest delete revision. */
export interface DeleteLog {
  /** The revision of a delete of `key` after `revision` that the log saw, if any. */
  deletedAfter(key: Buffer, revision: bigint): bigint | undefined;
  /** Stops recording. */
  close(): void;
}

/**
 * One watch of an election's candidates' range, as it runs: it dispatches each change by
 * exact key to the listeners registered for that key, and tells each of them when it breaks.
 * Keys nobody registered (other candidates, a nested election's keys) are dropped.
 *
 * Its order is what the campaign relies on: etcd sends the changes of one watcher in
 * revision order (docs/safety.md, "One ordered watch per election"), so a listener registered
 * before a read at revision R, on a line created at H ≤ R, is told every change of its key
 * after R, before any change of a later revision of any key.
 */
export class Line {
  /** The created answer's revision: the line covers every change after it. */
  #revision = -1n;
  readonly #listeners = new Map<string, Set<LineKeyListener>>();
  readonly #logs = new Set<RecordedDeletes>();
  /** The listeners told a change in the answer being dispatched: told `settled` at its end. */
  readonly #touched = new Set<LineKeyListener>();
  #watch: { close(): void } | undefined;
  #broken = false;

  /** The created answer's revision H: the line covers every change of revision > H. */
  get revision(): bigint {
    return this.#revision;
  }

  /** Whether the watch broke: nothing more comes on it. */
  get broken(): boolean {
    return this.#broken;
  }

  /**
   * Registers `listener` for `key`'s changes from now on.
   *
   * @returns a function that unregisters it. On a broken line it registers nothing and calls
   * `interrupted` before it returns.
   */
  listen(key: Buffer, listener: LineKeyListener): () => void {
    if (this.#broken) {
      listener.interrupted(new Error("the election's watch was interrupted"));
      return () => {};
    }
    const name = key.toString("latin1");
    let listeners = this.#listeners.get(name);
    if (listeners === undefined) {
      listeners = new Set();
      this.#listeners.set(name, listeners);
    }
    listeners.add(listener);
    const registered = listeners;
    return () => {
      registered.delete(listener);
      this.#touched.delete(listener);
      if (registered.size === 0 && this.#listeners.get(name) === registered) {
        this.#listeners.delete(name);
      }
    };
  }

  /**
   * Records every delete of the range from now on, until closed: a campaign opens one before
   * a read and asks it, after the read, whether its predecessor went after the read's revision
   * while the answer was on its way (it learns the predecessor's key from that answer).
   */
  recordDeletes(): DeleteLog {
    const log = new RecordedDeletes(this.#logs);
    this.#logs.add(log);
    return log;
  }

  /** @internal etcd created the watch that feeds this line, at `revision`. */
  created(watch: { close(): void }, revision: bigint): void {
    this.#watch = watch;
    this.#revision = revision;
  }

  /** @internal */
  changed(type: "put" | "delete", kv: IKeyValue): void {
    if (this.#broken) return;
    const name = kv.key.toString("latin1");
    if (type === "delete") {
      for (const log of this.#logs) log.deleted(name, BigInt(kv.mod_revision));
    }
    const listeners = this.#listeners.get(name);
    if (listeners === undefined) return;
    for (const listener of [...listeners]) {
      if (listener.settled !== undefined) this.#touched.add(listener);
      listener.changed(type, kv);
    }
  }

  /** @internal The answer's changes were all dispatched. */
  settled(): void {
    if (this.#touched.size === 0) return;
    const touched = [...this.#touched];
    this.#touched.clear();
    if (this.#broken) return;
    for (const listener of touched) listener.settled?.();
  }

  /** @internal The watch broke, or the line was closed: tells every listener, once. */
  interrupted(error: Error): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#watch?.close();
    const listeners = [...this.#listeners.values()].flatMap((set) => [...set]);
    this.#listeners.clear();
    this.#touched.clear();
    for (const log of this.#logs) log.clear();
    this.#logs.clear();
    for (const listener of listeners) listener.interrupted(error);
  }
}

/**
 * A {@link DeleteLog} of one {@link Line}. A class: a waiter keeps its closed log until it
 * leads, and a thousand waiters each kept two closures and their scope.
 */
class RecordedDeletes implements DeleteLog {
  /** Key → latest delete revision; dropped on close. */
  #deletes: Map<string, bigint> | undefined = new Map();
  readonly #logs: Set<RecordedDeletes>;

  constructor(logs: Set<RecordedDeletes>) {
    this.#logs = logs;
  }

  deletedAfter(key: Buffer, revision: bigint): bigint | undefined {
    const deleted = this.#deletes?.get(key.toString("latin1"));
    return deleted !== undefined && deleted > revision ? deleted : undefined;
  }

  close(): void {
    if (this.#deletes === undefined) return;
    this.#logs.delete(this);
    this.#deletes = undefined;
  }

  /** The line saw `name` deleted at `revision`. */
  deleted(name: string, revision: bigint): void {
    this.#deletes?.set(name, revision);
  }

  /** The line broke: what was seen is forgotten. */
  clear(): void {
    this.#deletes?.clear();
  }
}

/** The line watches in use, by client and election: the electors on one client share them. */
const shared = new WeakMap<object, Map<string, { readonly watch: LineWatch; users: number }>>();

/** A {@link LineWatch} that one elector uses, and gives back when it closes. */
export interface AcquiredLineWatch {
  readonly watch: LineWatch;
  /** Gives it back: the last elector to do so closes it. Idempotent. */
  release(): void;
}

/**
 * The one watch of an election's candidates' range that every campaign of the electors on
 * one client shares: a waiting candidate follows its own key and its predecessor's through
 * it, a leader its own key. It is opened by the first campaign that needs it and kept open
 * until {@link close}, so that later campaigns start without a watch create of their own, and
 * an etcd3 client does not reset its connection, as it does when its last watch is cancelled
 * (bench/etcd/RESULTS.md).
 *
 * Each {@link Line} is one-shot: once its watch broke, the next {@link current} opens a new
 * one, from now, and its users read again.
 */
export class LineWatch {
  readonly #open: RangeWatchOpener;
  readonly #range: KeyRange;
  readonly #logger: Logger;
  #line: Line | undefined;
  #opening: Promise<Line> | undefined;
  #closed = false;
  /** Aborts an opening under way when the watch is closed. */
  readonly #closing = new AbortController();

  constructor(open: RangeWatchOpener, range: KeyRange, logger: Logger) {
    this.#open = open;
    this.#range = range;
    this.#logger = logger;
  }

  /**
   * The line watch of `range` on `client`, shared by every elector of that election on it.
   */
  static acquire(
    client: object,
    range: KeyRange,
    open: RangeWatchOpener,
    logger: Logger,
  ): AcquiredLineWatch {
    let byRange = shared.get(client);
    if (byRange === undefined) {
      byRange = new Map();
      shared.set(client, byRange);
    }
    const name = range.key.toString("latin1");
    let entry = byRange.get(name);
    if (entry === undefined) {
      entry = { watch: new LineWatch(open, range, logger), users: 0 };
      byRange.set(name, entry);
    }
    entry.users++;
    const used = entry;
    let released = false;
    return {
      watch: used.watch,
      release: () => {
        if (released) return;
        released = true;
        if (--used.users > 0) return;
        used.watch.close();
        if (byRange.get(name) === used) byRange.delete(name);
      },
    };
  }

  /**
   * The running line, opening one if none runs. etcd has created its watch when this
   * resolves, so a read sent afterwards has a revision at or above the line's.
   *
   * @throws the signal's reason if it aborts first, or the watch's error.
   */
  current(signal: AbortSignal): Promise<Line> {
    signal.throwIfAborted();
    if (this.#closed) return Promise.reject(new Error("the election's watch is closed"));
    if (this.#line !== undefined && !this.#line.broken) return Promise.resolve(this.#line);
    this.#opening ??= this.#start().finally(() => {
      this.#opening = undefined;
    });
    return raceSignal(this.#opening, signal);
  }

  async #start(): Promise<Line> {
    // Made first: a change that comes before this function resumes must not be lost.
    const line = new Line();
    const listener: KeyWatchListener = {
      changed: (type, kv) => line.changed(type, kv),
      settled: () => line.settled(),
      interrupted: (error) => {
        this.#logger.debug({ err: error }, "the election's watch was interrupted");
        line.interrupted(error);
      },
    };
    const created = await this.#open(this.#range, listener, this.#closing.signal);
    line.created(created.watch, created.revision);
    if (this.#closed) {
      line.interrupted(new Error("the election's watch is closed"));
      throw new Error("the election's watch is closed");
    }
    this.#line = line;
    this.#logger.debug({ revision: created.revision.toString() }, "watching the election");
    return line;
  }

  /** Closes the watch; its listeners are told it was interrupted. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort(new Error("the election's watch is closed"));
    this.#line?.interrupted(new Error("the election's watch is closed"));
    this.#line = undefined;
  }
}
