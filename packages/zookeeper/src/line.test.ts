import { describe, expect, it } from "vitest";
import { fakeStat } from "./fake-client.test-support.js";
import {
  candidatesAmong,
  decodeCandidate,
  encodeCandidate,
  isMarkedElected,
  isUsableSequence,
  newNodePrefix,
  readLine,
  sequenceOf,
  tokenOf,
} from "./line.js";

/** A session whose listing is `names`, in the server's hash order. */
function lineReader(names: readonly string[]) {
  return { children: async () => [...names] };
}

describe("the election line", () => {
  it("orders candidate nodes by sequence, whatever their GUIDs, from one listing", async () => {
    const line = await readLine(
      lineReader([
        "ffffffff-0000-4000-8000-000000000000-n_0000000010",
        "00000000-0000-4000-8000-000000000000-n_0000000011",
        "88888888-0000-4000-8000-000000000000-n_0000000009",
      ]),
      "/e",
    );
    expect(line.map((entry) => entry.sequence)).toEqual([9, 10, 11]);
    expect(line[0]?.name).toBe("88888888-0000-4000-8000-000000000000-n_0000000009");
  });

  it("orders sequences as numbers", async () => {
    const line = await readLine(
      lineReader(["b-n_1000000000", "a-n_0999999999", "c-n_0000000100"]),
      "/e",
    );
    expect(line.map((entry) => entry.name)).toEqual([
      "c-n_0000000100",
      "a-n_0999999999",
      "b-n_1000000000",
    ]);
  });

  it("leaves out children that are not candidate nodes", async () => {
    const line = await readLine(
      lineReader(["lock-0000000001", "x-n_12", "-n_0000000001", "a-n_0000000002"]),
      "/e",
    );
    expect(line).toEqual([{ name: "a-n_0000000002", sequence: 2 }]);
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
      lineReader(["a-n_2147483647", "b-n_-2147483648", "c-n_2147483646"]),
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
    expect(decodeCandidate(Buffer.from("null"))).toBeUndefined();
  });

  it("marks a node its owner was elected on, and reads the data the same with or without the mark", () => {
    const data = { id: "worker-7", value: "v" };
    const marked = Buffer.from(encodeCandidate(data, true));
    expect(JSON.parse(marked.toString())).toEqual({ ...data, elected: true });
    expect(decodeCandidate(marked)).toEqual(data);
    expect(isMarkedElected(marked)).toBe(true);
    expect(isMarkedElected(Buffer.from(encodeCandidate(data)))).toBe(false);
    expect(isMarkedElected(Buffer.from('{"elected":"yes"}'))).toBe(false);
    expect(isMarkedElected(Buffer.from("not json"))).toBe(false);
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
