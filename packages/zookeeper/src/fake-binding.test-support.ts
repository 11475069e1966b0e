// A stand-in for the zookeeper binding's handle in unit tests: it answers nothing by itself.
// A test sees each request, answers it with any return code, and fires connection events,
// so that the binding's quirks (watchers that get session events, a handle that closes
// itself) can be reproduced exactly. Not part of the package's output.
import type { NativeClient, NativeStat, NativeWatcher } from "./binding.js";

/** One request a {@link FakeClient} received. */
export interface FakeRequest {
  readonly operation: string;
  readonly path: string;
  readonly watcher: NativeWatcher | undefined;
  /** A create's flags. */
  readonly flags: number | undefined;
  /** Calls the request's callback with `code` and the result arguments. */
  answer(code: number, ...result: unknown[]): void;
}

/** A fake handle; see the file comment. */
export class FakeClient implements NativeClient {
  readonly config: Record<string, unknown>;
  readonly requests: FakeRequest[] = [];
  client_id = "0";
  client_password = "0".repeat(32);
  timeout = 0;
  state = 0;
  closed = false;
  /** What the next request returns synchronously; 0 queues it. */
  nextReturn = 0;
  readonly #listeners = new Map<string, ((...args: unknown[]) => void)[]>();

  constructor(config: Record<string, unknown>) {
    this.config = config;
  }

  init(): NativeClient {
    return this;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit("close", this, 0);
  }

  on(event: string, listener: (...args: never[]) => void): void {
    const list = this.#listeners.get(event) ?? [];
    list.push(listener as (...args: unknown[]) => void);
    this.#listeners.set(event, list);
  }

  emit(event: string, ...args: unknown[]): void {
    for (const listener of this.#listeners.get(event) ?? []) listener(...args);
  }

  /** The server accepted the session. */
  connect(id: string, timeoutMs: number, password = "ab".repeat(16)): void {
    this.client_id = id;
    this.client_password = password;
    this.timeout = timeoutMs;
    this.state = 3;
    this.emit("connect");
  }

  /** The connection dropped; the C client reconnects. */
  dropConnection(): void {
    this.state = 1;
    this.emit("connecting");
  }

  /** The binding closed the handle by itself, reporting `code`. */
  closeItself(code: number): void {
    this.closed = true;
    this.emit("close", this, code);
  }

  /** The oldest unanswered request of `operation`. */
  next(operation: string): FakeRequest {
    const found = this.requests.find((request) => request.operation === operation);
    if (found === undefined) {
      throw new Error(
        `no ${operation} request; saw ${this.requests.map((r) => r.operation).join(", ")}`,
      );
    }
    return found;
  }

  #record(
    operation: string,
    path: string,
    watcher: NativeWatcher | undefined,
    callback: (...args: never[]) => void,
    flags?: number,
  ): number {
    if (this.nextReturn !== 0) return this.nextReturn;
    const request: FakeRequest = {
      operation,
      path,
      watcher,
      flags,
      answer: (code, ...result) => {
        this.requests.splice(this.requests.indexOf(request), 1);
        (callback as (...args: unknown[]) => void)(code, `code ${code}`, ...result);
      },
    };
    this.requests.push(request);
    return 0;
  }

  a_create(path: string, _data: unknown, flags: number, callback: never): number {
    return this.#record("create", path, undefined, callback, flags);
  }
  aw_get(path: string, watcher: NativeWatcher, callback: never): number {
    return this.#record("get", path, watcher, callback);
  }
  a_get(path: string, _watch: boolean, callback: never): number {
    return this.#record("get", path, undefined, callback);
  }
  a_exists(path: string, _watch: boolean, callback: never): number {
    return this.#record("exists", path, undefined, callback);
  }
  aw_exists(path: string, watcher: NativeWatcher, callback: never): number {
    return this.#record("exists", path, watcher, callback);
  }
  a_get_children(path: string, _watch: boolean, callback: never): number {
    return this.#record("list", path, undefined, callback);
  }
  aw_get_children(path: string, watcher: NativeWatcher, callback: never): number {
    return this.#record("list", path, watcher, callback);
  }
  a_set(path: string, _data: unknown, _version: number, callback: never): number {
    return this.#record("set", path, undefined, callback);
  }
  a_delete_(path: string, _version: number, callback: never): number {
    return this.#record("delete", path, undefined, callback);
  }
  a_sync(path: string, callback: never): number {
    return this.#record("sync", path, undefined, callback);
  }
}

/** A binding whose every handle is a {@link FakeClient}, kept in `handles` in order. */
export function fakeBinding(): {
  Binding: new (config: Record<string, unknown>) => NativeClient;
  handles: FakeClient[];
} {
  const handles: FakeClient[] = [];
  class Binding extends FakeClient {
    constructor(config: Record<string, unknown>) {
      super(config);
      handles.push(this);
    }
  }
  return { Binding, handles };
}

/** A stat for answers. */
export function fakeStat(fields: Partial<NativeStat> = {}): NativeStat {
  return {
    czxid: 42,
    mzxid: 42,
    version: 0,
    dataLength: 0,
    numChildren: 0,
    ephemeralOwner: "0",
    ...fields,
  };
}
