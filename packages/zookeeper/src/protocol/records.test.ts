import { describe, expect, it } from "vitest";
import { codes, opCodes } from "./codes.js";
import { JuteReader, JuteWriter } from "./jute.js";
import { readMulti, writeMulti } from "./records.js";

describe("multi records", () => {
  it("sends version -1 of a check as -1 (any version), never as 0", () => {
    const writer = new JuteWriter();
    writeMulti(writer, [{ type: "check", path: "/n", version: -1 }], (path) => `/root${path}`);
    const reader = new JuteReader(writer.frame().subarray(4));
    expect([reader.int(), reader.bool(), reader.int()]).toEqual([opCodes.check, false, -1]);
    expect(reader.string()).toBe("/root/n");
    expect(reader.int()).toBe(-1);
    expect([reader.int(), reader.bool(), reader.int()]).toEqual([-1, true, -1]);
  });

  it("names the op that refused, not the ones rolled back around it", () => {
    const writer = new JuteWriter();
    for (const code of [codes.ok, codes.badVersion, codes.runtimeInconsistency]) {
      writer.int(opCodes.error).bool(false).int(code).int(code);
    }
    writer.int(-1).bool(true).int(-1);
    const outcome = readMulti(new JuteReader(writer.frame().subarray(4)), (path) => path);
    expect(outcome).toEqual({ ok: false, index: 1, code: codes.badVersion });
  });
});
