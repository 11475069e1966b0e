import { BackendError, ConnectionError, type Logger, silentLogger } from "@elector/core";
import { describe, expect, it } from "vitest";
import { isNoNode, ZooKeeperConnectionError, ZooKeeperRequestError } from "./errors.js";
import { fakeClients, fakeStat, fire } from "./fake-client.test-support.js";
import { codes } from "./protocol/codes.js";
import { Session, SessionEndedError, type WatchEvent } from "./session.js";

const timeoutMs = 3000;

/** Lets every pending promise callback run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

function open(options: { safetyMarginMs?: number; logger?: Logger } = {}) {
  const { createClient, clients } = fakeClients();
  const session = new Session(createClient, {
    servers: ["zk1:2181", "zk2:2181"],
    requestedTimeoutMs: timeoutMs,
    safetyMarginMs: options.safetyMarginMs ?? 500,
    logger: options.logger ?? silentLogger,
  });
  const seen: string[] = [];
  const heard: number[] = [];
  session.subscribe({
    heard: (sentAt) => heard.push(sentAt),
    disconnected: () => seen.push("disconnected"),
    restored: () => seen.push("restored"),
    ended: (state) => seen.push(`ended:${state}`),
  });
  const client = clients[0];
  if (client === undefined) throw new Error("no client");
  return { session, client, clients, seen, heard };
}

describe("Session", () => {
  it("asks for the configured timeout, starts its client, and takes the negotiated timeout", async () => {
    const { session, client } = open();
    expect(client.options).toMatchObject({
      servers: ["zk1:2181", "zk2:2181"],
      sessionTimeoutMs: timeoutMs,
    });
    expect(client.started).toBe(true);
    expect(session.state).toBe("connecting");
    const ready = session.ready(new AbortController().signal);
    client.connect("1a2b", 2000);
    await ready;
    expect(session).toMatchObject({ state: "connected", id: "1a2b", timeoutMs: 2000 });
  });

  it("recomputes the margin from the negotiated timeout, at most half of it, and warns when the server changed the timeout", () => {
    const warnings: string[] = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (fields: unknown, message?: string) => {
        warnings.push(message ?? String(fields));
      },
      child: () => logger,
    };
    // The default margin of 3000 ms (500) follows a granted 30000 ms to its default (3000).
    const followed = open({ safetyMarginMs: 500, logger });
    followed.client.connect("1a2b", 30_000);
    expect(followed.session.marginMs).toBe(3000);
    expect(warnings[0]).toMatch(
      /granted a session timeout of 30000 ms in place of the requested 3000 ms/,
    );
    // An explicit margin stays, but never above half the granted timeout.
    const capped = open({ safetyMarginMs: 2500, logger });
    capped.client.connect("1a2b", 4000);
    expect(capped.session.marginMs).toBe(2000);
    capped.client.dropConnection();
    capped.client.connect("1a2b", 3000);
    expect(capped.session.marginMs).toBe(1500);
    // As asked: no warning.
    const same = open({ safetyMarginMs: 500, logger });
    const before = warnings.length;
    same.client.connect("1a2b", timeoutMs);
    expect(warnings).toHaveLength(before);
    expect(same.session.marginMs).toBe(500);
  });

  it("is restored only once a heartbeat sent after the (re)connect is answered", async () => {
    const { session, client, seen } = open();
    client.connect("1a2b", timeoutMs);
    expect(session.verified).toBe(false);
    client.next("sync").answer(codes.ok);
    await flush();
    expect(seen).toEqual(["restored"]);
    client.dropConnection();
    expect(session.state).toBe("disconnected");
    expect(session.doubt).toMatch(/dropped/);
    client.connect("1a2b", timeoutMs);
    expect(seen).toEqual(["restored", "disconnected"]);
    client.next("sync").answer(codes.ok);
    await flush();
    expect(seen).toEqual(["restored", "disconnected", "restored"]);
  });

  it("counts writes and syncs the server answered as heard from their send time, but not reads or connection failures", async () => {
    const { session, client, heard } = open();
    client.connect("1a2b", timeoutMs);
    client.next("sync").answer(codes.ok);
    const before = performance.now();
    const deleting = session.delete("/e/gone");
    const reading = session.get("/e/x");
    const syncing = session.sync("/");
    client.next("delete").answer(codes.noNode);
    client.next("get").answer(codes.ok, fakeStat(), Buffer.from("x"));
    client.next("sync").answer(codes.connectionLoss);
    await expect(deleting).rejects.toSatisfy(isNoNode);
    await expect(reading).resolves.toMatchObject({ data: Buffer.from("x") });
    await expect(syncing).rejects.toBeInstanceOf(ZooKeeperConnectionError);
    // The first heartbeat's answer, then the delete's "no node": both went through the leader.
    expect(heard).toHaveLength(2);
    expect(heard[1]).toBeGreaterThanOrEqual(before);
    expect(session.lastHeard).toBe(heard[1]);
  });

  it("maps ZooKeeper's codes to typed errors that name the operation and path", async () => {
    const { session, client } = open();
    client.connect("1a2b", timeoutMs);
    client.next("sync").answer(codes.ok);
    const refused = session.setData("/e/n", "v");
    client.next("set").answer(codes.noAuth);
    const error = await refused.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ZooKeeperRequestError);
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ zooKeeperCode: -102, retryable: false });
    expect((error as Error).message).toBe(
      'ZooKeeper setData "/e/n" failed: -102 not authenticated',
    );

    const lost = session.sync("/e");
    client.next("sync").answer(codes.connectionLoss);
    await expect(lost).rejects.toBeInstanceOf(ConnectionError);
    await expect(lost).rejects.toMatchObject({ retryable: true, code: "connection-failed" });
  });

  it("reports a watch once, and keeps it across a reconnect (the client sets it again)", async () => {
    const { session, client } = open();
    client.connect("1a2b", timeoutMs);
    const events: WatchEvent[] = [];
    const read = session.watchData("/e/pred", (event) => events.push(event));
    const request = client.next("get");
    request.answer(codes.ok, fakeStat(), Buffer.alloc(0));
    await read.result;
    client.dropConnection();
    client.connect("1a2b", timeoutMs);
    expect(events).toEqual([]);
    fire(request, "deleted");
    fire(request, "deleted");
    expect(events).toEqual(["deleted"]);
  });

  it("reports no event to a watch that was cancelled", async () => {
    const { session, client } = open();
    client.connect("1a2b", timeoutMs);
    const events: WatchEvent[] = [];
    const read = session.watchData("/e/pred", (event) => events.push(event));
    const request = client.next("get");
    request.answer(codes.ok, fakeStat(), Buffer.alloc(0));
    await read.result;
    read.cancel();
    fire(request, "changed");
    expect(events).toEqual([]);
  });

  it("reads a missing node as undefined for a data watch", async () => {
    const { session, client } = open();
    client.connect("1a2b", timeoutMs);
    const read = session.watchData("/e/pred", () => {});
    client.next("get").answer(codes.noNode);
    await expect(read.result).resolves.toBeUndefined();
  });

  it("ends as expired when the server refuses to resume the session, and fails what waits", async () => {
    const { session, client, seen } = open();
    client.connect("1a2b", timeoutMs);
    await session.ready(new AbortController().signal);
    client.dropConnection();
    const waiting = session.ready(new AbortController().signal);
    client.expire();
    expect(session.state).toBe("expired");
    expect(seen).toEqual(["disconnected", "ended:expired"]);
    await expect(waiting).rejects.toBeInstanceOf(SessionEndedError);
    await expect(session.sync("/")).rejects.toMatchObject({ zooKeeperCode: codes.sessionExpired });
  });

  it("closes its client, which ends the session as closed", () => {
    const { session, client, seen } = open();
    client.connect("1a2b", timeoutMs);
    session.close();
    expect(client.closed).toBe(true);
    expect(session.state).toBe("closed");
    expect(seen).toEqual(["ended:closed"]);
  });

  it("rejects ready() after its timeout with a ConnectionError naming the servers", async () => {
    const { session } = open();
    await expect(session.ready(new AbortController().signal, 20)).rejects.toThrow(
      "could not connect to ZooKeeper at zk1:2181,zk2:2181 within 20 ms",
    );
  });

  it("deletes orphaned nodes once the session answers again", async () => {
    const { session, client } = open();
    client.connect("1a2b", timeoutMs);
    session.forget("/e", "guid-n_");
    expect(client.requests.map((request) => request.operation)).toEqual(["sync"]);
    client.next("sync").answer(codes.ok);
    await flush();
    client.next("list").answer(codes.ok, ["other-n_0000000001", "guid-n_0000000002"]);
    await flush();
    expect(client.next("delete").path).toBe("/e/guid-n_0000000002");
  });
});
