import { describe, expect, test } from "vitest";
import { isStaleTokenError } from "./errors.js";
import { MemoryFence } from "./memory-fence.js";

describe("MemoryFence", () => {
  test("admits a first token, equal tokens and higher tokens, and records the highest", async () => {
    const fence = new MemoryFence();
    expect(await fence.highest("orders")).toBeUndefined();
    await fence.admit("orders", 33n);
    await fence.admit("orders", 33n);
    await fence.admit("orders", 34n);
    expect(await fence.highest("orders")).toBe(34n);
  });

  test("refuses a token lower than one admitted, with both tokens, and keeps the highest", async () => {
    const fence = new MemoryFence();
    await fence.admit("orders", 34n);
    const error = await fence.admit("orders", 33n).catch((failure: unknown) => failure);
    expect(isStaleTokenError(error)).toBe(true);
    expect(error).toMatchObject({ resource: "orders", presented: 33n, highest: 34n });
    expect(await fence.highest("orders")).toBe(34n);
  });

  test("fences each resource on its own", async () => {
    const fence = new MemoryFence();
    await fence.admit("orders", 34n);
    await fence.admit("invoices", 33n);
    expect(await fence.highest("invoices")).toBe(33n);
  });

  test("admitNow checks and records synchronously, so no other admission gets in between", () => {
    const fence = new MemoryFence();
    fence.admitNow("ledger", 34n);
    expect(() => fence.admitNow("ledger", 33n)).toThrow(/token 34 was already admitted/);
  });

  test("refuses bad arguments and an aborted signal before touching the mark", async () => {
    const fence = new MemoryFence();
    await expect(fence.admit("", 33n)).rejects.toThrow(
      'resource must be a non-empty string of at most 512 characters, got ""',
    );
    await expect(fence.admit("orders", 33 as unknown as bigint)).rejects.toMatchObject({
      code: "invalid-token",
    });
    const controller = new AbortController();
    controller.abort(new Error("shutting down"));
    await expect(fence.admit("orders", 35n, { signal: controller.signal })).rejects.toThrow(
      "shutting down",
    );
    expect(await fence.highest("orders")).toBeUndefined();
  });
});
