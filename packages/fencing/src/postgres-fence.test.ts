import { describe, expect, test } from "vitest";
import type { PgPool, PgPoolClient, PgResult } from "./postgres-fence.js";
import { PostgresFence } from "./postgres-fence.js";

// Behaviour against a real server is proven in test/integration/fencing; these cover what
// needs no server: options, error mapping, and the transaction's statement sequence.

function scriptedPool(answer: (text: string) => PgResult | Error) {
  const statements: string[] = [];
  const released: Array<Error | boolean | undefined> = [];
  const client: PgPoolClient = {
    query: async (text) => {
      statements.push(text.trim().split(/\s+/)[0] as string);
      const result = answer(text);
      if (result instanceof Error) throw result;
      return result;
    },
    release: (error) => {
      released.push(error);
    },
  };
  const pool: PgPool = { query: client.query, connect: async () => client };
  return { pool, statements, released };
}

const none: PgResult = { rows: [], rowCount: 0 };
const one: PgResult = { rows: [{ token: "33" }], rowCount: 1 };

describe("PostgresFence", () => {
  test("validates the table name and quotes it", () => {
    expect(
      new PostgresFence({ query: async () => none }, { table: "fencing.marks" }).tableDefinition(),
    ).toBe(
      'CREATE TABLE IF NOT EXISTS "fencing"."marks" (resource text PRIMARY KEY, token bigint NOT NULL CHECK (token > 0))',
    );
    expect(
      () => new PostgresFence({ query: async () => none }, { table: "marks; DROP TABLE x" }),
    ).toThrow(
      'table must be a table name such as elector_fences or fencing.marks (letters, digits, underscores), got "marks; DROP TABLE x"',
    );
    expect(() => new PostgresFence({} as PgPool)).toThrow(
      "db must be a pg Pool, PoolClient or Client, got an object",
    );
  });

  test("maps a missing table to a non-retryable store error with a hint, and a lost connection to a retryable one", async () => {
    const missing = new PostgresFence({
      query: async () => {
        throw Object.assign(new Error('relation "elector_fences" does not exist'), {
          code: "42P01",
        });
      },
    });
    await expect(missing.admit("orders", 33n)).rejects.toMatchObject({
      code: "store-failed",
      retryable: false,
      message: expect.stringContaining("create the table with createTable()"),
    });
    const reset = new PostgresFence({
      query: async () => {
        throw Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
      },
    });
    await expect(reset.admit("orders", 33n)).rejects.toMatchObject({
      code: "store-failed",
      retryable: true,
    });
  });

  test("transaction runs BEGIN, the admission, the work and COMMIT on one connection, and returns it to the pool", async () => {
    const { pool, statements, released } = scriptedPool(() => one);
    const result = await new PostgresFence(pool).transaction("orders", 33n, async (client) => {
      await client.query("UPDATE orders SET status = 'billed'");
      return "done";
    });
    expect(result).toBe("done");
    expect(statements).toEqual(["BEGIN", "INSERT", "UPDATE", "COMMIT"]);
    expect(released).toEqual([false]);
  });

  test("a stale token rolls the transaction back before the work runs", async () => {
    const { pool, statements, released } = scriptedPool((text) =>
      text.startsWith("INSERT")
        ? none
        : text.startsWith("SELECT")
          ? { rows: [{ token: "34" }], rowCount: 1 }
          : none,
    );
    let ran = false;
    await expect(
      new PostgresFence(pool).transaction("orders", 33n, async () => {
        ran = true;
      }),
    ).rejects.toMatchObject({ code: "stale-token", presented: 33n, highest: 34n });
    expect(ran).toBe(false);
    expect(statements).toEqual(["BEGIN", "INSERT", "SELECT", "ROLLBACK"]);
    expect(released).toEqual([false]);
  });

  test("work that throws rolls back and its error comes through", async () => {
    const { pool, statements } = scriptedPool(() => one);
    await expect(
      new PostgresFence(pool).transaction("orders", 33n, async () => {
        throw new Error("constraint violated");
      }),
    ).rejects.toThrow("constraint violated");
    expect(statements.at(-1)).toBe("ROLLBACK");
  });

  test("transaction needs a pool, and says to use withClient otherwise", async () => {
    const fence = new PostgresFence({ query: async () => one });
    await expect(fence.transaction("orders", 33n, async () => undefined)).rejects.toThrow(
      /use withClient\(\) inside your own transaction/,
    );
  });
});
