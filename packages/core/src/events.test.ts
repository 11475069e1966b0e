import { describe, expect, it } from "vitest";
import { TypedEvents } from "./events.js";
import { silentLogger } from "./logger.js";

describe("TypedEvents", () => {
  it("removes a once() listener with off(), and survives a listener that throws", () => {
    const events = new TypedEvents<{ tick: [n: number] }>(silentLogger);
    const seen: number[] = [];
    const once = (n: number) => seen.push(n);
    events.once("tick", once);
    events.off("tick", once);
    events.on("tick", () => {
      throw new Error("listener bug");
    });
    events.on("tick", (n) => seen.push(n * 10));
    events.emit("tick", 1);
    expect(seen).toEqual([10]);
  });

  it("does not throw an error event that nobody listens to", () => {
    const events = new TypedEvents<{ error: [error: Error] }>(silentLogger);
    expect(() => events.emit("error", new Error("background"))).not.toThrow();
  });
});
