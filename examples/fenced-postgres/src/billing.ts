import { PostgresFence } from "@elector/fencing";
import type pg from "pg";

/** The resource the fence guards: every writer of `billing_runs` presents its token for it. */
export const resource = "billing-runs";

/**
 * Creates the fence's table and the app's, once, even when several workers start together
 * (an advisory lock serializes them). In a real app this is a migration.
 */
export async function migrate(pool: pg.Pool): Promise<PostgresFence> {
  const fence = new PostgresFence(pool);
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext('elector-example-fenced-postgres'))");
    await client.query(fence.tableDefinition());
    await client.query(
      "CREATE TABLE IF NOT EXISTS billing_runs (id bigserial PRIMARY KEY, token bigint NOT NULL, worker text NOT NULL, ran_at timestamptz NOT NULL DEFAULT now())",
    );
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
  return fence;
}

/**
 * Records one billing run, fenced: the fence admits `token` and the row is inserted in the
 * same transaction, so the insert commits only if no newer leader has written before.
 *
 * @throws StaleTokenError when a newer leader has written; nothing was inserted.
 */
export async function recordRun(
  fence: PostgresFence,
  token: bigint,
  worker: string,
): Promise<void> {
  await fence.transaction(resource, token, (client) =>
    client.query("INSERT INTO billing_runs (token, worker) VALUES ($1, $2)", [
      token.toString(),
      worker,
    ]),
  );
}
