import { describe, expect, it } from "vitest";
import { delay, linkSignals, raceSignal } from "./signals.js";

describe("linkSignals", () => {
  it("aborts with the reason of the first source that aborts", () => {
    const a = new AbortController();
    const b = new AbortController();
    const link = linkSignals(a.signal, undefined, b.signal);
    b.abort(new Error("b"));
    a.abort(new Error("a"));
    expect(link.signal.reason).toMatchObject({ message: "b" });
  });

  it("starts aborted when a source already is", () => {
    expect(linkSignals(AbortSignal.abort("early")).signal.reason).toBe("early");
  });

  it("lets go of its sources once disposed", () => {
    const source = new AbortController();
    const link = linkSignals(source.signal);
    link.dispose();
    source.abort();
    expect(link.signal.aborted).toBe(false);
  });
});

describe("raceSignal and delay", () => {
  it("reject with the signal's reason when it aborts first", async () => {
    const controller = new AbortController();
    const pending = raceSignal(new Promise(() => {}), controller.signal);
    const sleeping = delay(60_000, controller.signal);
    controller.abort(new Error("stop"));
    await expect(pending).rejects.toThrow("stop");
    await expect(sleeping).rejects.toThrow("stop");
  });

  it("settle with the promise when it settles first", async () => {
    await expect(raceSignal(Promise.resolve(7), new AbortController().signal)).resolves.toBe(7);
    await expect(delay(1, undefined)).resolves.toBeUndefined();
  });
});
