import { silentLogger } from "@elector/core";
import { describe, expect, it } from "vitest";
import { FakeEtcd } from "./fake-etcd.test-support.js";
import { electionKeys } from "./keys.js";
import { type LineKeyListener, LineWatch } from "./line-watch.js";

function setup() {
  const etcd = new FakeEtcd();
  const keys = electionKeys("", "e");
  const open = (...args: Parameters<FakeEtcd["watchRange"]>) => etcd.watchRange(...args);
  return { etcd, keys, open, watch: new LineWatch(open, keys.candidates, silentLogger) };
}

/** A listener that records what it is told. */
function recorder() {
  const told: string[] = [];
  const listener: LineKeyListener = {
    changed: (type, kv) => told.push(`${type} ${kv.key.toString()}@${kv.mod_revision}`),
    settled: () => told.push("settled"),
    interrupted: () => told.push("interrupted"),
  };
  return { told, listener };
}

const signal = new AbortController().signal;

describe("LineWatch", () => {
  it("opens one watch from now and hands each change to the listeners of its key only", async () => {
    const { etcd, watch } = setup();
    const line = await watch.current(signal);
    expect(line.revision).toBe(etcd.revision);
    expect(await watch.current(signal)).toBe(line);
    expect(etcd.watchesCreated).toBe(1);
    const a = recorder();
    const b = recorder();
    line.listen(Buffer.from("e/a"), a.listener);
    line.listen(Buffer.from("e/b"), b.listener);
    etcd.put("e/a", "1");
    // A nested election's key lies in the range and reaches nobody.
    etcd.put("e/nested/1", "x");
    etcd.delete("e/a");
    expect(a.told).toEqual(["put e/a@2", "settled", "delete e/a@4", "settled"]);
    expect(b.told).toEqual([]);
  });

  it("records the range's deletes while a log is open, newer than a given revision", async () => {
    const { etcd, watch } = setup();
    const line = await watch.current(signal);
    etcd.put("e/a", "1");
    const log = line.recordDeletes();
    etcd.delete("e/a");
    expect(log.deletedAfter(Buffer.from("e/a"), 2n)).toBe(3n);
    expect(log.deletedAfter(Buffer.from("e/a"), 3n)).toBeUndefined();
    expect(log.deletedAfter(Buffer.from("e/b"), 0n)).toBeUndefined();
    log.close();
    etcd.put("e/b", "1");
    etcd.delete("e/b");
    expect(log.deletedAfter(Buffer.from("e/b"), 0n)).toBeUndefined();
  });

  it("tells every listener once when its watch breaks, and opens a new one on the next call", async () => {
    const { etcd, watch } = setup();
    const line = await watch.current(signal);
    const a = recorder();
    line.listen(Buffer.from("e/a"), a.listener);
    etcd.interruptWatches();
    etcd.interruptWatches();
    expect(a.told).toEqual(["interrupted"]);
    expect(line.broken).toBe(true);
    // A listener registered on a broken line is told at once.
    const late = recorder();
    line.listen(Buffer.from("e/a"), late.listener);
    expect(late.told).toEqual(["interrupted"]);
    const next = await watch.current(signal);
    expect(next).not.toBe(line);
    expect(etcd.watchesCreated).toBe(2);
  });

  it("is shared by the electors of one client and election, and closed by the last to give it back", async () => {
    const { etcd, keys, open } = setup();
    const client = {};
    const first = LineWatch.acquire(client, keys.candidates, open, silentLogger);
    const second = LineWatch.acquire(client, keys.candidates, open, silentLogger);
    const other = LineWatch.acquire({}, keys.candidates, open, silentLogger);
    expect(second.watch).toBe(first.watch);
    expect(other.watch).not.toBe(first.watch);
    await first.watch.current(signal);
    first.release();
    first.release();
    expect(etcd.watches).toBe(1);
    second.release();
    expect(etcd.watches).toBe(0);
    await expect(second.watch.current(signal)).rejects.toThrow("closed");
    other.release();
  });
});
