import { isStaleTokenError, type PgQueryable, PostgresFence } from "@elector/fencing";
import { describe, expect, it } from "vitest";
import { eventually } from "../../support/eventually.js";
import { postgresPoolForSuite } from "../../support/suite-servers.js";

describe("PostgreSQL: PostgresFence", () => {
  const started = postgresPoolForSuite({
    max: 4,
    prepare: async (pool) => {
      await new PostgresFence(pool).createTable();
      await pool.query(
        "CREATE TABLE accounts (id text PRIMARY KEY, balance bigint NOT NULL, written_by text NOT NULL)",
      );
    },
  });

  const setBalance = (id: string, balance: number, writer: string) => (client: PgQueryable) =>
    client.query(
      `INSERT INTO accounts (id, balance, written_by) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET balance = EXCLUDED.balance, written_by = EXCLUDED.written_by`,
      [id, balance, writer],
    );

  const account = async (id: string) =>
    (
      await started().query(
        "SELECT balance::int AS balance, written_by FROM accounts WHERE id = $1",
        [id],
      )
    ).rows[0];

  it("commits the admission with the write, and a stale token writes nothing", async () => {
    const fence = new PostgresFence(started());
    await fence.transaction("acct-1", 33n, setBalance("acct-1", 100, "A"));
    await fence.transaction("acct-1", 34n, setBalance("acct-1", 200, "B"));
    const stale = await fence
      .transaction("acct-1", 33n, setBalance("acct-1", 150, "A"))
      .catch((error: unknown) => error);
    expect(isStaleTokenError(stale)).toBe(true);
    expect(stale).toMatchObject({ presented: 33n, highest: 34n });
    expect(await account("acct-1")).toEqual({ balance: 200, written_by: "B" });
  });

  it("rolls the admission back with a write that fails, so the mark does not move", async () => {
    const fence = new PostgresFence(started());
    await fence.transaction("acct-2", 34n, setBalance("acct-2", 1, "B"));
    await expect(
      fence.transaction("acct-2", 40n, async (client) => {
        await client.query("SELECT 1 / 0");
      }),
    ).rejects.toMatchObject({ code: "22012" });
    expect(await fence.highest("acct-2")).toBe(34n);
    await fence.transaction("acct-2", 35n, setBalance("acct-2", 2, "C"));
    expect(await account("acct-2")).toEqual({ balance: 2, written_by: "C" });
  });

  it("holds the resource's row from the check to the commit: a deposed leader waiting on it is refused", async () => {
    const fence = new PostgresFence(started());
    await fence.transaction("acct-3", 33n, setBalance("acct-3", 100, "A"));
    // B (34) has checked and is still writing when A (33) arrives.
    let finishB: () => void = () => {};
    const bWriting = new Promise<void>((resolve) => {
      finishB = resolve;
    });
    let bChecked: () => void = () => {};
    const bHasChecked = new Promise<void>((resolve) => {
      bChecked = resolve;
    });
    const b = fence.transaction("acct-3", 34n, async (client) => {
      bChecked();
      await bWriting;
      await setBalance("acct-3", 200, "B")(client);
    });
    await bHasChecked;
    const a = fence
      .transaction("acct-3", 33n, setBalance("acct-3", 150, "A"))
      .catch((error: unknown) => error);
    // A queues on the row lock that B's check took, so it is decided only after B commits.
    await eventually(
      "A's admission waits on B's row lock",
      5_000,
      async () => {
        const { rows } = await started().query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO "elector_fences"%'`,
        );
        expect(rows[0]?.waiting).toBe(1);
      },
      20,
    );
    finishB();
    await b;
    expect(isStaleTokenError(await a)).toBe(true);
    expect(await account("acct-3")).toEqual({ balance: 200, written_by: "B" });
  });

  it("withClient admits inside a transaction the caller opened", async () => {
    const fence = new PostgresFence(started());
    const client = await started().connect();
    try {
      await client.query("BEGIN");
      await fence.withClient(client).admit("acct-4", 34n);
      await setBalance("acct-4", 7, "B")(client);
      await client.query("COMMIT");
      await client.query("BEGIN");
      await expect(fence.withClient(client).admit("acct-4", 33n)).rejects.toMatchObject({
        code: "stale-token",
      });
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
    expect(await fence.highest("acct-4")).toBe(34n);
    expect(await account("acct-4")).toEqual({ balance: 7, written_by: "B" });
  });

  it("keeps tokens up to 2^63 - 1 exact", async () => {
    const fence = new PostgresFence(started());
    await fence.admit("big", 2n ** 63n - 1n);
    await expect(fence.admit("big", 2n ** 63n - 2n)).rejects.toMatchObject({
      highest: 9223372036854775807n,
    });
  });
});
