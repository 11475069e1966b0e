import { BackendError, silentLogger } from "@elector/core";
import { describe, expect, it } from "vitest";
import { CandidateNode, maxDroppedCreates } from "./candidate-node.js";
import { ZooKeeperSequenceExhaustedError } from "./errors.js";
import { type FakeClient, fakeClients, fakeStat } from "./fake-client.test-support.js";
import { codes as rc } from "./protocol/codes.js";
import { Session } from "./session.js";

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A connected session on a fake handle, its first heartbeat answered. */
function connectedSession(): { session: Session; handle: FakeClient } {
  const { createClient, clients } = fakeClients();
  const session = new Session(createClient, {
    servers: ["zk:2181"],
    requestedTimeoutMs: 3000,
    safetyMarginMs: 500,
    logger: silentLogger,
  });
  const handle = clients[0] as FakeClient;
  handle.connect("5e55", 3000);
  handle.next("sync").answer(rc.ok, "/");
  return { session, handle };
}

/** Answers requests as they come until `operation` shows up, then returns it. */
async function nextRequest(handle: FakeClient, operation: Parameters<FakeClient["next"]>[0]) {
  for (let turn = 0; turn < 20; turn++) {
    const found = handle.requests.find((request) => request.operation === operation);
    if (found !== undefined) return found;
    await flush();
  }
  return handle.next(operation);
}

/** Answers the sync of the election node that must come before a list after a lost create. */
async function syncedElectionNode(handle: FakeClient): Promise<void> {
  for (let turn = 0; turn < 20; turn++) {
    const sync = handle.requests.find(
      (request) => request.operation === "sync" && request.path === "/elector/e",
    );
    if (sync !== undefined) {
      // Nothing may be listed before the sync brought the server up to date.
      expect(handle.requests.filter((request) => request.operation === "list")).toEqual([]);
      sync.answer(rc.ok, "/elector/e");
      return;
    }
    await flush();
  }
  throw new Error("no sync of /elector/e");
}

/** A joining node whose create gets the name `<prefix><digits>`; returns the create's path. */
async function createdAs(handle: FakeClient, digits: string): Promise<string> {
  const create = await nextRequest(handle, "create");
  create.answer(rc.ok, `${create.path}${digits}`);
  return `${create.path}${digits}`;
}

describe("CandidateNode", () => {
  it("after a lost create reply, syncs the election node before it lists it, so that a lagging follower cannot hide the node", async () => {
    const { session, handle } = connectedSession();
    const node = new CandidateNode(session, "/elector/e", "/elector", { id: "a", value: "v" });
    const joining = node.join(new AbortController().signal, () => {});
    const create = await nextRequest(handle, "create");
    create.answer(rc.connectionLoss, null);
    for (let turn = 0; turn < 10; turn++) await flush();
    // Only the sync is out: a list sent with it could be answered from the follower's past.
    expect(handle.requests.map((request) => `${request.operation} ${request.path}`)).toEqual([
      "sync /elector/e",
    ]);
    await syncedElectionNode(handle);
    const name = `${create.path.slice("/elector/e/".length)}0000000004`;
    (await nextRequest(handle, "list")).answer(rc.ok, [name]);
    (await nextRequest(handle, "exists")).answer(rc.ok, fakeStat({ ephemeralOwner: "5e55" }));
    (await nextRequest(handle, "get")).answer(
      rc.ok,
      fakeStat({ ephemeralOwner: "5e55" }),
      Buffer.from("{}"),
    );
    await joining;
    expect(node.path).toBe(`/elector/e/${name}`);
  });

  it("gives up with a permanent error when the server drops every create, as it does past its jute.maxbuffer, and deletes the election node it left empty", async () => {
    const { session, handle } = connectedSession();
    const node = new CandidateNode(session, "/elector/e", "/elector", {
      id: "a",
      value: "x".repeat(100_000),
    });
    const joining = node.join(new AbortController().signal, () => {});
    joining.catch(() => {});
    for (let attempt = 0; attempt < maxDroppedCreates; attempt++) {
      (await nextRequest(handle, "create")).answer(rc.connectionLoss, null);
      await syncedElectionNode(handle);
      (await nextRequest(handle, "list")).answer(rc.ok, []);
    }
    const removal = await nextRequest(handle, "delete");
    expect(removal.path).toBe("/elector/e");
    removal.answer(rc.ok);
    const error = await joining.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: "backend-failed", retryable: false });
    expect(String(error)).toMatch(
      /each of the 3 times .* \(100021 bytes of data\).*jute\.maxbuffer/,
    );
    expect(handle.requests).toEqual([]);
  });

  it("deletes a node whose sequence is used up and, while others hold the election node, fails with a retryable typed error", async () => {
    const { session, handle } = connectedSession();
    const node = new CandidateNode(session, "/elector/e", "/elector", { id: "a", value: "v" });
    const joining = node.join(new AbortController().signal, () => {});
    joining.catch(() => {});
    const path = await createdAs(handle, "2147483647");
    const own = await nextRequest(handle, "delete");
    expect(own.path).toBe(path);
    own.answer(rc.ok);
    const parent = await nextRequest(handle, "delete");
    expect(parent.path).toBe("/elector/e");
    parent.answer(rc.notEmpty);
    const error = await joining.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ZooKeeperSequenceExhaustedError);
    expect(error).toMatchObject({
      code: "backend-failed",
      retryable: true,
      electionPath: "/elector/e",
      sequence: 2147483647,
    });
    expect(handle.requests).toEqual([]);
  });

  it("re-creates an empty election node whose sequence is used up, and joins at sequence 0", async () => {
    const { session, handle } = connectedSession();
    const node = new CandidateNode(session, "/elector/e", "/elector", { id: "a", value: "v" });
    const joining = node.join(new AbortController().signal, () => {});
    const wrapped = await createdAs(handle, "-2147483648");
    const own = await nextRequest(handle, "delete");
    expect(own.path).toBe(wrapped);
    own.answer(rc.ok);
    const parent = await nextRequest(handle, "delete");
    expect(parent.path).toBe("/elector/e");
    parent.answer(rc.ok);
    (await nextRequest(handle, "create")).answer(rc.noNode, null);
    for (const path of ["/elector", "/elector/e"]) {
      const request = await nextRequest(handle, "create");
      expect(request.path).toBe(path);
      request.answer(rc.ok, path);
    }
    const fresh = await createdAs(handle, "0000000000");
    (await nextRequest(handle, "get")).answer(
      rc.ok,
      fakeStat({ ephemeralOwner: "5e55" }),
      Buffer.from("{}"),
    );
    await joining;
    expect(node.path).toBe(fresh);
  });

  it("finds its node by GUID after a create whose reply was lost, and reads its token", async () => {
    const { session, handle } = connectedSession();
    const node = new CandidateNode(session, "/elector/e", "/elector", { id: "a", value: "v" });
    const joining = node.join(new AbortController().signal, () => {});
    const create = await nextRequest(handle, "create");
    expect(create.path).toMatch(/^\/elector\/e\/[0-9a-f-]{36}-n_$/);
    create.answer(rc.connectionLoss, null);
    const name = `${create.path.slice("/elector/e/".length)}0000000007`;
    await syncedElectionNode(handle);
    (await nextRequest(handle, "list")).answer(rc.ok, ["x-n_0000000006", name]);
    (await nextRequest(handle, "exists")).answer(rc.ok, fakeStat({ ephemeralOwner: "5e55" }));
    (await nextRequest(handle, "get")).answer(
      rc.ok,
      fakeStat({ ephemeralOwner: "5e55", czxid: 0x200000011 }),
      Buffer.from("{}"),
    );
    await joining;
    expect(node.path).toBe(`/elector/e/${name}`);
    expect(node.token).toBe(0x200000011n);
    expect(handle.requests.filter((request) => request.operation === "create")).toEqual([]);
  });

  it("deletes, rather than adopts, a node with its GUID that belongs to another session", async () => {
    const { session, handle } = connectedSession();
    const node = new CandidateNode(session, "/elector/e", "/elector", { id: "a", value: "v" });
    const joining = node.join(new AbortController().signal, () => {});
    const create = await nextRequest(handle, "create");
    create.answer(rc.connectionLoss, null);
    const stale = `${create.path}0000000003`;
    await syncedElectionNode(handle);
    (await nextRequest(handle, "list")).answer(rc.ok, [stale.slice("/elector/e/".length)]);
    (await nextRequest(handle, "exists")).answer(rc.ok, fakeStat({ ephemeralOwner: "01d" }));
    const deleting = await nextRequest(handle, "delete");
    expect(deleting.path).toBe(stale);
    deleting.answer(rc.ok);
    const again = await nextRequest(handle, "create");
    expect(again.path).toBe(create.path);
    again.answer(rc.ok, `${create.path}0000000004`);
    (await nextRequest(handle, "get")).answer(
      rc.ok,
      fakeStat({ ephemeralOwner: "5e55" }),
      Buffer.from("{}"),
    );
    await joining;
    expect(node.path).toBe(`${create.path}0000000004`);
  });

  it("creates the election node as a container, and the root path as persistent nodes, when missing", async () => {
    const { session, handle } = connectedSession();
    const node = new CandidateNode(session, "/apps/elector/jobs/nightly", "/apps/elector", {
      id: "a",
      value: "v",
    });
    const joining = node.join(new AbortController().signal, () => {});
    (await nextRequest(handle, "create")).answer(rc.noNode, null);
    const created: string[] = [];
    for (const path of [
      "/apps",
      "/apps/elector",
      "/apps/elector/jobs",
      "/apps/elector/jobs/nightly",
    ]) {
      const request = await nextRequest(handle, "create");
      expect(request.path).toBe(path);
      created.push(`${path}:${request.mode}`);
      request.answer(path === "/apps" ? rc.nodeExists : rc.ok, path);
    }
    expect(created).toEqual([
      "/apps:persistent",
      "/apps/elector:persistent",
      "/apps/elector/jobs:container",
      "/apps/elector/jobs/nightly:container",
    ]);
    const create = await nextRequest(handle, "create");
    create.answer(rc.ok, `${create.path}0000000000`);
    (await nextRequest(handle, "get")).answer(
      rc.ok,
      fakeStat({ ephemeralOwner: "5e55" }),
      Buffer.from("{}"),
    );
    await joining;
  });

  it("refuses a node that another session owns right after creating it", async () => {
    const { session, handle } = connectedSession();
    const node = new CandidateNode(session, "/elector/e", "/elector", { id: "a", value: "v" });
    const joining = node.join(new AbortController().signal, () => {});
    const create = await nextRequest(handle, "create");
    create.answer(rc.ok, `${create.path}0000000001`);
    (await nextRequest(handle, "get")).answer(
      rc.ok,
      fakeStat({ ephemeralOwner: "beef" }),
      Buffer.from("{}"),
    );
    await expect(joining).rejects.toThrow(/belongs to session beef, not to ours \(5e55\)/);
  });

  it("on delete, asks the session to delete later a node whose create got no answer", async () => {
    const { session, handle } = connectedSession();
    const node = new CandidateNode(session, "/elector/e", "/elector", { id: "a", value: "v" });
    const controller = new AbortController();
    const joining = node.join(controller.signal, () => {});
    const create = await nextRequest(handle, "create");
    controller.abort();
    create.answer(rc.connectionLoss, null);
    await expect(joining).rejects.toMatchObject({ name: "AbortError" });
    await node.delete();
    // The session is connected and answers: it sweeps at once.
    const list = await nextRequest(handle, "list");
    expect(list.path).toBe("/elector/e");
    list.answer(rc.ok, [`${create.path.slice("/elector/e/".length)}0000000009`]);
    expect((await nextRequest(handle, "delete")).path).toBe(`${create.path}0000000009`);
  });
  it("keeps the elected mark in every later write, and writes the latest value with it", async () => {
    const { session, handle } = connectedSession();
    const node = new CandidateNode(session, "/elector/e", "/elector", { id: "a", value: "v1" });
    const joining = node.join(new AbortController().signal, () => {});
    const path = await createdAs(handle, "0000000001");
    (await nextRequest(handle, "get")).answer(
      rc.ok,
      fakeStat({ ephemeralOwner: "5e55" }),
      Buffer.from("{}"),
    );
    await joining;
    // A proclaim sent before the mark: the mark follows it with the value it set.
    const proclaimed = node.setData({ id: "a", value: "v2" });
    node.markElected();
    const writes = handle.requests.filter((request) => request.operation === "set");
    expect(writes.map((request) => [request.path, JSON.parse(request.data ?? "")])).toEqual([
      [path, { id: "a", value: "v2" }],
      [path, { id: "a", value: "v2", elected: true }],
    ]);
    for (const write of writes) write.answer(rc.ok, fakeStat());
    await proclaimed;
    const later = node.setData({ id: "a", value: "v3" });
    const write = await nextRequest(handle, "set");
    expect(JSON.parse(write.data ?? "")).toEqual({ id: "a", value: "v3", elected: true });
    write.answer(rc.ok, fakeStat());
    expect(await later).toBe(true);
  });
});
