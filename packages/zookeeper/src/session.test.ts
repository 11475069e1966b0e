import { BackendError, ConnectionError, silentLogger } from "@elector/core";
import { describe, expect, it } from "vitest";
import { rc } from "./binding.js";
import { isNoNode, ZooKeeperConnectionError, ZooKeeperRequestError } from "./errors.js";
import { fakeBinding, fakeStat } from "./fake-binding.test-support.js";
import { Session, SessionEndedError, type WatchEvent } from "./session.js";

const timeoutMs = 3000;

/** Lets every pending promise callback run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function open() {
  const { Binding, handles } = fakeBinding();
  const session = new Session(Binding, {
    connect: "zk1:2181,zk2:2181",
    requestedTimeoutMs: timeoutMs,
    logger: silentLogger,
  });
  const seen: string[] = [];
  const heard: number[] = [];
  session.subscribe({
    heard: (sentAt) => heard.push(sentAt),
    disconnected: () => seen.push("disconnected"),
    restored: () => seen.push("restored"),
    ended: (state) => seen.push(`ended:${state}`),
  });
  const handle = (index: number) => {
    const found = handles[index];
    if (found === undefined) throw new Error(`no handle ${index}`);
    return found;
  };
  return { session, handles, handle, seen, heard };
}

describe("Session", () => {
  it("asks for the configured timeout, silences the C client's log, and takes the negotiated timeout", async () => {
    const { session, handle } = open();
    expect(handle(0).config).toMatchObject({
      connect: "zk1:2181,zk2:2181",
      timeout: timeoutMs,
      debug_level: 0,
    });
    expect(session.state).toBe("connecting");
    const ready = session.ready(new AbortController().signal);
    handle(0).connect("1a2b", 2000);
    await ready;
    expect(session).toMatchObject({ state: "connected", id: "1a2b", timeoutMs: 2000 });
  });

  it("is restored only once a heartbeat sent after the (re)connect is answered", async () => {
    const { session, handle, seen } = open();
    handle(0).connect("1a2b", timeoutMs);
    expect(session.verified).toBe(false);
    handle(0).next("sync").answer(rc.ok, "/");
    await flush();
    expect(seen).toEqual(["restored"]);
    handle(0).dropConnection();
    expect(session.state).toBe("disconnected");
    expect(session.doubt).toMatch(/dropped/);
    handle(0).connect("1a2b", timeoutMs);
    expect(seen).toEqual(["restored", "disconnected"]);
    handle(0).next("sync").answer(rc.ok, "/");
    await flush();
    expect(seen).toEqual(["restored", "disconnected", "restored"]);
  });

  it("counts writes and syncs the server answered as heard from their send time, but not reads or connection failures", async () => {
    const { session, handle, heard } = open();
    handle(0).connect("1a2b", timeoutMs);
    handle(0).next("sync").answer(rc.ok, "/");
    const before = performance.now();
    const deleting = session.delete("/e/gone");
    const reading = session.get("/e/x");
    const syncing = session.sync("/");
    handle(0).next("delete").answer(rc.noNode);
    handle(0).next("get").answer(rc.ok, fakeStat(), Buffer.from("x"));
    handle(0).next("sync").answer(rc.connectionLoss, "/");
    await expect(deleting).rejects.toSatisfy(isNoNode);
    await expect(reading).resolves.toMatchObject({ data: Buffer.from("x") });
    await expect(syncing).rejects.toBeInstanceOf(ZooKeeperConnectionError);
    // The first heartbeat's answer, then the delete's "no node": both went through the leader.
    expect(heard).toHaveLength(2);
    expect(heard[1]).toBeGreaterThanOrEqual(before);
    expect(session.lastHeard).toBe(heard[1]);
  });

  it("maps the C client's codes to typed errors that name the operation and path", async () => {
    const { session, handle } = open();
    handle(0).connect("1a2b", timeoutMs);
    handle(0).next("sync").answer(rc.ok, "/");
    const refused = session.setData("/e/n", "v");
    handle(0).next("set").answer(rc.noAuth);
    const error = await refused.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ZooKeeperRequestError);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ zooKeeperCode: -102, retryable: false });
    expect((error as Error).message).toBe('ZooKeeper set "/e/n" failed: -102 code -102');

    const lost = session.sync("/e");
    handle(0).next("sync").answer(rc.connectionLoss);
    await expect(lost).rejects.toBeInstanceOf(ConnectionError);
    await expect(lost).rejects.toMatchObject({ retryable: true, code: "connection-failed" });

    // A request the handle refuses at once (a closed or broken handle) is never answered.
    handle(0).nextReturn = rc.invalidState;
    await expect(session.children("/e")).rejects.toMatchObject({ zooKeeperCode: -9 });
  });

  it("ignores the session events that the binding also hands to watch callbacks", async () => {
    const { session, handle } = open();
    handle(0).connect("1a2b", timeoutMs);
    const events: WatchEvent[] = [];
    const read = session.watchData("/e/pred", (event) => events.push(event));
    const request = handle(0).next("get");
    request.answer(rc.ok, fakeStat(), Buffer.alloc(0));
    await read.result;
    request.watcher?.(-1, 1, "");
    request.watcher?.(-1, 3, "");
    expect(events).toEqual([]);
    request.watcher?.(2, 3, "/e/pred");
    request.watcher?.(2, 3, "/e/pred");
    expect(events).toEqual(["deleted"]);
  });

  it("sets no data watch on a missing node, and reports none", async () => {
    const { session, handle } = open();
    handle(0).connect("1a2b", timeoutMs);
    const events: WatchEvent[] = [];
    const read = session.watchData("/e/pred", (event) => events.push(event));
    handle(0).next("get").answer(rc.noNode, null, null);
    await expect(read.result).resolves.toBeUndefined();
    handle(0).dropConnection();
    expect(events).toEqual([]);
  });

  it("resumes the same session with its id and password when the binding closes the handle by itself", async () => {
    const { session, handle, handles, seen } = open();
    handle(0).connect("1a2b", timeoutMs, "cd".repeat(16));
    const events: WatchEvent[] = [];
    const read = session.watchData("/e/pred", (event) => events.push(event));
    handle(0).next("get").answer(rc.ok, fakeStat(), Buffer.alloc(0));
    await read.result;

    // Ten empty reads: the binding closes the handle and calls it an expiry.
    handle(0).closeItself(-112);
    expect(handles).toHaveLength(2);
    expect(handle(1).config).toMatchObject({ client_id: "1a2b", client_password: "cd".repeat(16) });
    expect(session.state).toBe("disconnected");
    // Watches lived on the old handle: their owners must read and watch again.
    expect(events).toEqual(["lost"]);
    expect(seen).toEqual(["disconnected"]);

    handle(1).connect("1a2b", timeoutMs);
    expect(session).toMatchObject({ state: "connected", id: "1a2b" });
    handle(1).next("sync").answer(rc.ok, "/");
    await flush();
    expect(seen).toEqual(["disconnected", "restored"]);
  });

  it("ends as expired when the resumed handle is refused before it connects", async () => {
    const { session, handle, seen } = open();
    handle(0).connect("1a2b", timeoutMs);
    const pending = session.ready(new AbortController().signal);
    await pending;
    handle(0).closeItself(-112);
    const waiting = session.ready(new AbortController().signal);
    handle(1).closeItself(-112);
    expect(session.state).toBe("expired");
    expect(seen).toEqual(["disconnected", "ended:expired"]);
    await expect(waiting).rejects.toBeInstanceOf(SessionEndedError);
    await expect(session.sync("/")).rejects.toMatchObject({ zooKeeperCode: rc.sessionExpired });
  });

  it("rejects ready() after its timeout with a ConnectionError naming the servers", async () => {
    const { session } = open();
    await expect(session.ready(new AbortController().signal, 20)).rejects.toThrow(
      "could not connect to ZooKeeper at zk1:2181,zk2:2181 within 20 ms",
    );
  });

  it("deletes orphaned nodes once the session answers again", async () => {
    const { session, handle } = open();
    handle(0).connect("1a2b", timeoutMs);
    session.forget("/e", "guid-n_");
    expect(handle(0).requests.map((request) => request.operation)).toEqual(["sync"]);
    handle(0).next("sync").answer(rc.ok, "/");
    await flush();
    handle(0).next("list").answer(rc.ok, ["other-n_0000000001", "guid-n_0000000002"]);
    await flush();
    expect(handle(0).next("delete").path).toBe("/e/guid-n_0000000002");
  });
});
