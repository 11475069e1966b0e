import { describe, expect, it } from "vitest";
import { fakeStat } from "./fake-client.test-support.js";
import {
  candidatesAmong,
  decodeCandidate,
  encodeCandidate,
  isUsableSequence,
  newNodePrefix,
  readLine,
  sequenceOf,
  tokenOf,
} from "./line.js";

/** A session whose children and stats come from `nodes` (name to czxid). */
function lineReader(nodes: Record<string, number | bigint>, gone: readonly string[] = []) {
  return {
    children: async () => Object.keys(nodes),
    exists: async (path: string) => {
      const name = path.slice(path.lastIndexOf("/") + 1);
      const czxid = nodes[name];
      return czxid === undefined || gone.includes(name) ? undefined : { czxid: BigInt(czxid) };
    },
  };
}

describe("the election line", () => {
  it("orders candidate nodes by czxid, whatever their GUIDs", async () => {
    const line = await readLine(
      lineReader({
        "ffffffff-0000-4000-8000-000000000000-n_0000000010": 0x10000000an,
        "00000000-0000-4000-8000-000000000000-n_0000000011": 0x10000000b,
        "88888888-0000-4000-8000-000000000000-n_0000000009": 0x100000009,
      }),
      "/e",
    );
    expect(line.map((entry) => entry.sequence)).toEqual([9, 10, 11]);
    expect(line.map((entry) => entry.czxid)).toEqual([0x100000009n, 0x10000000an, 0x10000000bn]);
    expect(line[0]?.name).toBe("88888888-0000-4000-8000-000000000000-n_0000000009");
  });

  it("orders by czxid where sequences tie, as they do once the counter stopped", async () => {
    // Listed in the server's hash order, not in creation order.
    const line = await readLine(
      lineReader({
        "c-n_0000000007": 0x300000003,
        "a-n_0000000007": 0x300000001,
        "b-n_0000000007": 0x300000002,
      }),
      "/e",
    );
    expect(line.map((entry) => entry.name)).toEqual([
      "a-n_0000000007",
      "b-n_0000000007",
      "c-n_0000000007",
    ]);
  });

  it("leaves out children that are not candidate nodes, and nodes deleted while it read", async () => {
    const line = await readLine(
      lineReader(
        {
          "lock-0000000001": 1,
          "x-n_12": 2,
          "-n_0000000001": 3,
          "a-n_0000000002": 4,
          "b-n_0000000003": 5,
        },
        ["b-n_0000000003"],
      ),
      "/e",
    );
    expect(line).toEqual([{ name: "a-n_0000000002", sequence: 2, czxid: 4n }]);
  });

  it("reads the server's names of a counter that stopped or wrapped around, and leaves those nodes out of line", async () => {
    expect(sequenceOf("a-n_2147483646")).toBe(2147483646);
    expect(sequenceOf("a-n_2147483647")).toBe(2147483647);
    expect(sequenceOf("a-n_-2147483648")).toBe(-2147483648);
    expect(sequenceOf("a-n_-000000005")).toBe(-5);
    expect(sequenceOf("a-n_000000005")).toBeUndefined();
    expect(isUsableSequence(0)).toBe(true);
    expect(isUsableSequence(2147483646)).toBe(true);
    expect(isUsableSequence(2147483647)).toBe(false);
    expect(isUsableSequence(-5)).toBe(false);
    const line = await readLine(
      lineReader({
        "a-n_2147483647": 0x400000003,
        "b-n_-2147483648": 0x400000004,
        "c-n_2147483646": 0x400000002,
      }),
      "/e",
    );
    expect(line.map((entry) => entry.name)).toEqual(["c-n_2147483646"]);
    expect(candidatesAmong(["a-n_2147483647", "b-n_-2147483648"])).toEqual([]);
  });

  it("makes a fresh GUID prefix per campaign that the marker ends", () => {
    const first = newNodePrefix();
    expect(first).toMatch(/^[0-9a-f-]{36}-n_$/);
    expect(newNodePrefix()).not.toBe(first);
  });

  it("encodes id and value as JSON and reads back only that shape", () => {
    const data = { id: "worker-7", value: 'http://10.0.0.7:8080/"x"' };
    expect(decodeCandidate(Buffer.from(encodeCandidate(data)))).toEqual(data);
    expect(JSON.parse(encodeCandidate(data))).toEqual(data);
    expect(decodeCandidate(Buffer.from("not json"))).toBeUndefined();
    expect(decodeCandidate(Buffer.from('{"id":1,"value":"v"}'))).toBeUndefined();
  });

  it("takes the czxid as the token, exactly beyond 2^53, and refuses one that is not positive", () => {
    // Epoch 0x200000, counter 1: past what a double holds exactly.
    expect(tokenOf(fakeStat({ czxid: 0x20000000000001n }), "/e/n")).toBe(9007199254740993n);
    expect(tokenOf(fakeStat({ czxid: 0x100000002 }), "/e/n")).toBe(4294967298n);
    expect(() => tokenOf(fakeStat({ czxid: 0 }), "/e/n")).toThrow(/fencing token/);
    // A client that hands zxids over as bigints: exact past 2^53 too.
    expect(tokenOf({ czxid: 2n ** 60n }, "/e/n")).toBe(2n ** 60n);
  });
});
