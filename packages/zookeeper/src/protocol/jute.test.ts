import { describe, expect, it } from "vitest";
import { JuteError, JuteReader, JuteWriter, PacketReader } from "./jute.js";

describe("jute", () => {
  it("reads back what it writes, a 64-bit zxid included", () => {
    const packet = new JuteWriter()
      .int(-8)
      .long(0x1_0000_0002n)
      .long(2n ** 63n - 1n)
      .bool(true)
      .string("/a/ü")
      .buffer(null)
      .strings(["x", "yz"])
      .frame();
    expect(packet.readInt32BE(0)).toBe(packet.length - 4);
    const reader = new JuteReader(packet.subarray(4));
    expect(reader.int()).toBe(-8);
    expect(reader.long()).toBe(0x1_0000_0002n);
    expect(reader.long()).toBe(2n ** 63n - 1n);
    expect(reader.bool()).toBe(true);
    expect(reader.string()).toBe("/a/ü");
    expect(reader.buffer()).toBeNull();
    expect(reader.strings()).toEqual(["x", "yz"]);
    expect(reader.remaining).toBe(0);
  });

  it("refuses a packet that claims more bytes than it holds", () => {
    const reader = new JuteReader(new JuteWriter().int(1000).frame().subarray(4));
    expect(() => reader.buffer()).toThrow(JuteError);
    expect(() => new JuteReader(Buffer.alloc(3)).int()).toThrow(JuteError);
  });

  it("splits a stream into packets whatever the chunking, and joins a large one once", () => {
    const big = Buffer.alloc(300_000, 7);
    const stream = Buffer.concat([
      new JuteWriter().int(1).frame(),
      new JuteWriter().buffer(big).frame(),
      new JuteWriter().int(2).frame(),
    ]);
    for (const size of [3, 4096, stream.length]) {
      const reader = new PacketReader(1 << 20);
      const packets: Buffer[] = [];
      for (let at = 0; at < stream.length; at += size) {
        packets.push(...reader.push(stream.subarray(at, at + size)));
      }
      expect(packets.map((packet) => packet.length)).toEqual([4, big.length + 4, 4]);
      expect(new JuteReader(packets[1] as Buffer).buffer()?.equals(big)).toBe(true);
      expect(reader.buffered).toBe(0);
    }
  });

  it("takes a negative or oversized length prefix for a corrupt stream", () => {
    const negative = Buffer.alloc(4);
    negative.writeInt32BE(-5);
    expect(() => new PacketReader(100).push(negative)).toThrow(JuteError);
    expect(() =>
      new PacketReader(100).push(new JuteWriter().buffer(Buffer.alloc(200)).frame()),
    ).toThrow("outside 0 to 100");
  });
});
