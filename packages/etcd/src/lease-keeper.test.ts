import { EventEmitter } from "node:events";
import type { ILeaseKeepAliveResponse } from "etcd3";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type KeepAliveClient, LeaseKeeper, type LeaseListener } from "./lease-keeper.js";

/** A keep-alive stream that the test answers by hand. */
class FakeStream extends EventEmitter {
  readonly written: string[] = [];
  ended = false;
  cancelled = false;

  write(request: { ID?: string | number }): void {
    this.written.push(String(request.ID));
  }

  end(): void {
    this.ended = true;
  }

  cancel(): void {
    this.cancelled = true;
    this.emit("error", new Error("1 CANCELLED: Cancelled on client"));
  }

  answer(id: string, ttl: number): void {
    const response: ILeaseKeepAliveResponse = {
      header: { cluster_id: "1", member_id: "1", revision: "1", raft_term: "1" },
      ID: id,
      TTL: String(ttl),
    };
    this.emit("data", response);
  }
}

class FakeClient implements KeepAliveClient {
  readonly streams: FakeStream[] = [];
  /** Remaining TTL by lease, as LeaseTimeToLive answers; -1 for a lease etcd does not know. */
  readonly ttls = new Map<string, number>();
  readonly leaseClient = {
    leaseKeepAlive: async () => {
      const stream = new FakeStream();
      this.streams.push(stream);
      // The etcd3 type is a gRPC duplex stream; the keeper uses only what FakeStream has.
      return stream as never;
    },
    leaseTimeToLive: async ({ ID }: { ID?: string | number }) => ({
      header: { cluster_id: "1", member_id: "1", revision: "1", raft_term: "1" },
      ID: String(ID),
      TTL: String(this.ttls.get(String(ID)) ?? -1),
      grantedTTL: "3",
      keys: [],
    }),
  };

  get last(): FakeStream {
    const stream = this.streams.at(-1);
    if (stream === undefined) throw new Error("no stream was opened");
    return stream;
  }
}

function recorder() {
  const renewals: { sentAt: number; ttlSeconds: number }[] = [];
  let expired = 0;
  const listener: LeaseListener = {
    renewed: (sentAt, ttlSeconds) => renewals.push({ sentAt, ttlSeconds }),
    expired: () => {
      expired++;
    },
  };
  return { listener, renewals, expired: () => expired };
}

/** Lets the keeper's promises (opening a stream) settle without moving the clock. */
const settle = () => vi.advanceTimersByTimeAsync(0);

/**
 * A keeper with a fixed reconnect delay holding lease 7 (TTL 3 s) whose first keep-alive was
 * answered and whose second has just been sent, unanswered, on the same stream.
 */
async function secondKeepAliveSent(delayMs: number) {
  const client = new FakeClient();
  const keeper = new LeaseKeeper(client, undefined, { minDelayMs: delayMs, maxDelayMs: delayMs });
  const { listener, renewals } = recorder();
  keeper.keep("7", 3, listener);
  await settle();
  client.last.answer("7", 3);
  await vi.advanceTimersByTimeAsync(1_000);
  const stream = client.last;
  expect(stream.written).toEqual(["7", "7"]);
  return { client, renewals, stream };
}

describe("LeaseKeeper", () => {
  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "performance"],
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reports each acknowledged keep-alive with its send time, not its answer time, every TTL/3", async () => {
    const client = new FakeClient();
    const keeper = new LeaseKeeper(client);
    const { listener, renewals } = recorder();
    const startedAt = performance.now();
    keeper.keep("7", 3, listener);
    await settle();
    expect(client.streams).toHaveLength(1);
    expect(client.last.written).toEqual(["7"]);

    await vi.advanceTimersByTimeAsync(40);
    client.last.answer("7", 3);
    expect(renewals).toEqual([{ sentAt: startedAt, ttlSeconds: 3 }]);

    await vi.advanceTimersByTimeAsync(960);
    expect(client.last.written).toEqual(["7", "7"]);
    await vi.advanceTimersByTimeAsync(300);
    client.last.answer("7", 3);
    expect(renewals[1]).toEqual({ sentAt: startedAt + 1000, ttlSeconds: 3 });
  });

  it("reports a keep-alive answered with TTL 0 as expired, and stops sending for that lease", async () => {
    const client = new FakeClient();
    const keeper = new LeaseKeeper(client);
    const { listener, renewals, expired } = recorder();
    keeper.keep("7", 3, listener);
    await settle();
    client.last.answer("7", 0);
    expect(expired()).toBe(1);
    expect(renewals).toEqual([]);
    expect(keeper.size).toBe(0);
    expect(client.last.ended).toBe(true);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(client.last.written).toEqual(["7"]);
  });

  it("asks after every lease when the stream ends with 'lease not found', and reports the gone ones expired", async () => {
    const client = new FakeClient();
    const keeper = new LeaseKeeper(client, undefined, { minDelayMs: 10, maxDelayMs: 10 });
    const alive = recorder();
    const gone = recorder();
    client.ttls.set("1", 3);
    keeper.keep("1", 3, alive.listener);
    keeper.keep("2", 3, gone.listener);
    await settle();
    client.last.answer("1", 3);
    client.last.emit("error", new Error("5 NOT_FOUND: etcdserver: requested lease not found"));
    await vi.advanceTimersByTimeAsync(50);
    expect(gone.expired()).toBe(1);
    expect(alive.expired()).toBe(0);
    expect(keeper.size).toBe(1);
    expect(client.last.written).toEqual(["1"]);
  });

  it("keeps every lease of a client over one stream", async () => {
    const client = new FakeClient();
    const keeper = new LeaseKeeper(client);
    const a = recorder();
    const b = recorder();
    keeper.keep("1", 3, a.listener);
    keeper.keep("2", 6, b.listener);
    await settle();
    expect(client.last.written).toEqual(["1", "2"]);
    client.last.answer("1", 3);
    client.last.answer("2", 6);
    await vi.advanceTimersByTimeAsync(1_000);
    client.last.answer("1", 3);
    await vi.advanceTimersByTimeAsync(1_000);
    client.last.answer("1", 3);
    client.last.answer("2", 6);
    expect(client.streams).toHaveLength(1);
    expect(client.last.written).toEqual(["1", "2", "1", "1", "2"]);
    expect(a.renewals).toHaveLength(3);
    expect(b.renewals).toHaveLength(2);
    expect(LeaseKeeper.of(client)).toBe(LeaseKeeper.of(client));
  });

  it("reopens a stream that failed, after a backoff, and matches answers only to keep-alives sent on the new stream", async () => {
    const { client, renewals, stream: first } = await secondKeepAliveSent(100);
    first.emit("error", new Error("14 UNAVAILABLE: Connection dropped"));
    await settle();
    expect(client.streams).toHaveLength(2);
    const reopenedAt = performance.now();
    expect(client.last.written).toEqual(["7"]);
    // A late answer on the failed stream counts for nothing.
    first.answer("7", 3);
    expect(renewals).toHaveLength(1);
    client.last.answer("7", 3);
    expect(renewals[1]).toEqual({ sentAt: reopenedAt, ttlSeconds: 3 });
  });

  it("waits with backoff while the stream cannot be opened", async () => {
    const client = new FakeClient();
    const keeper = new LeaseKeeper(client, undefined, { minDelayMs: 100, maxDelayMs: 400 });
    keeper.keep("7", 30, recorder().listener);
    await settle();
    for (let index = 0; index < 3; index++) {
      client.last.emit("error", new Error("14 UNAVAILABLE: No connection established"));
      await settle();
    }
    // Three failed opens wait at least 100 + 200 + 400 ms (jitter only lengthens them).
    expect(client.streams).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(100 * 2 + 200 * 2 + 400 * 2);
    expect(client.streams.length).toBeGreaterThanOrEqual(2);
  });

  it("sends keep-alives on schedule while earlier ones are unanswered, and credits each answer with its own send time", async () => {
    const { client, renewals, stream } = await secondKeepAliveSent(10);
    const secondSentAt = performance.now();
    // A round trip of 1.5 intervals: the third goes out before the second is answered.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(stream.written).toEqual(["7", "7", "7"]);
    await vi.advanceTimersByTimeAsync(500);
    stream.answer("7", 3);
    expect(renewals[1]).toEqual({ sentAt: secondSentAt, ttlSeconds: 3 });
    await vi.advanceTimersByTimeAsync(500);
    expect(stream.written).toEqual(["7", "7", "7", "7"]);
    await vi.advanceTimersByTimeAsync(500);
    stream.answer("7", 3);
    expect(renewals[2]).toEqual({ sentAt: secondSentAt + 1_000, ttlSeconds: 3 });
    expect(client.streams).toHaveLength(1);
    expect(stream.cancelled).toBe(false);
  });

  it("replaces a silent stream once a keep-alive is still unanswered two intervals after it was sent", async () => {
    const { client, renewals, stream: silent } = await secondKeepAliveSent(10);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(silent.cancelled).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(silent.cancelled).toBe(true);
    await vi.advanceTimersByTimeAsync(50);
    expect(client.streams).toHaveLength(2);
    client.last.answer("7", 3);
    expect(renewals).toHaveLength(2);
  });

  it("does not replace a stream whose late answer was already received when the process stalled", async () => {
    const client = new FakeClient();
    const keeper = new LeaseKeeper(client, undefined, { minDelayMs: 10, maxDelayMs: 10 });
    const { listener, renewals } = recorder();
    keeper.keep("7", 3, listener);
    await settle();
    client.last.answer("7", 3);
    await vi.advanceTimersByTimeAsync(1_000);
    // The tick at t = 3 s finds the keep-alive of t = 1 s unanswered: the process was
    // stalled, and timers run before the answer that waits in the socket is read...
    vi.advanceTimersByTime(2_000);
    // ...which the poll phase then reads, before the tick's second look.
    client.last.answer("7", 3);
    await new Promise((resolve) => setImmediate(resolve));
    expect(client.streams).toHaveLength(1);
    expect(client.last.cancelled).toBe(false);
    expect(renewals).toHaveLength(2);
    expect(client.last.written).toEqual(["7", "7", "7", "7"]);
  });

  it("ends the stream politely when the last lease is released, and opens one for the next", async () => {
    const client = new FakeClient();
    const keeper = new LeaseKeeper(client);
    const release = keeper.keep("7", 3, recorder().listener);
    await settle();
    client.last.answer("7", 3);
    release();
    expect(client.last.ended).toBe(true);
    expect(client.last.cancelled).toBe(false);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(client.last.written).toEqual(["7"]);
    // Released while its stream was still opening: that stream ends too.
    keeper.keep("8", 3, recorder().listener)();
    await settle();
    expect(client.streams).toHaveLength(2);
    expect(client.last.ended).toBe(true);
    keeper.keep("9", 3, recorder().listener);
    await settle();
    expect(client.streams).toHaveLength(3);
    expect(client.last.written).toEqual(["9"]);
  });
});
