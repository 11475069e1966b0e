import { describe, expect, test } from "vitest";
import type { EtcdClient } from "./etcd-client.js";
import { EtcdFence } from "./etcd-fence.js";
import { guardedTxn } from "./etcd-guard.js";

// Behaviour against a real etcd is proven in test/integration/fencing; these cover what
// needs no server.

const unreachable = {
  if: () => {
    throw new Error("no server in a unit test");
  },
} as unknown as EtcdClient;

describe("EtcdFence and guardedTxn", () => {
  test("validate their arguments eagerly, naming each", async () => {
    expect(() => new EtcdFence({} as EtcdClient)).toThrow(
      "client must be an etcd3 client (Etcd3 or Namespace), got an object",
    );
    expect(() => new EtcdFence(unreachable, { prefix: 7 as unknown as string })).toThrow(
      "prefix must be a string, got 7",
    );
    expect(new EtcdFence(unreachable).keyOf("orders")).toBe("elector/fences/orders");
    await expect(new EtcdFence(unreachable).admit("orders", 0n)).rejects.toMatchObject({
      code: "invalid-token",
    });
    await expect(guardedTxn(unreachable, { key: "jobs/1", token: 0n }, [])).rejects.toThrow(
      /^guard.token must be a fencing token/,
    );
    await expect(guardedTxn(unreachable, { keyPrefix: "", token: 3n }, [])).rejects.toThrow(
      'guard.keyPrefix must be a non-empty string, got ""',
    );
  });

  test("wrap a client failure in a retryable FenceStoreError with the cause", async () => {
    const error = await new EtcdFence(unreachable)
      .admit("orders", 33n)
      .catch((failure: unknown) => failure);
    expect(error).toMatchObject({
      code: "store-failed",
      retryable: true,
      message:
        'etcd failed while admitting token 33 for resource "orders": no server in a unit test',
    });
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});
