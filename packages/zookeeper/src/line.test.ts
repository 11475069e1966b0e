import { describe, expect, it } from "vitest";
import { fakeStat } from "./fake-client.test-support.js";
import { decodeCandidate, encodeCandidate, newNodePrefix, parseLine, tokenOf } from "./line.js";

describe("the election line", () => {
  it("orders candidate nodes by sequence number only, whatever their GUIDs", () => {
    const line = parseLine([
      "ffffffff-0000-4000-8000-000000000000-n_0000000010",
      "00000000-0000-4000-8000-000000000000-n_0000000011",
      "88888888-0000-4000-8000-000000000000-n_0000000009",
    ]);
    expect(line.map((entry) => entry.sequence)).toEqual([9, 10, 11]);
    expect(line[0]?.name).toBe("88888888-0000-4000-8000-000000000000-n_0000000009");
  });

  it("leaves out children that are not candidate nodes", () => {
    expect(parseLine(["lock-0000000001", "x-n_12", "-n_0000000001", "a-n_0000000002"])).toEqual([
      { name: "a-n_0000000002", sequence: 2 },
    ]);
  });

  it("sorts a counter that wrapped past 2^31 before the ones that did not", () => {
    const line = parseLine(["a-n_2147483647", "b-n_-2147483648"]);
    expect(line.map((entry) => entry.name)).toEqual(["b-n_-2147483648", "a-n_2147483647"]);
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
  });
});
