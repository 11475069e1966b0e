// A leader that writes into PostgreSQL, fenced: each write admits the term's token in the
// same transaction, so a deposed leader (paused, partitioned, slow) can never commit after
// its successor has.
//
// Environment: DATABASE_URL (required), ELECTOR_URL (default memory://), INSTANCE_ID,
// EVERY_MS (default 1000).
import { setTimeout as delay } from "node:timers/promises";
import { createElector, lead } from "@elector/core";
import { isStaleTokenError } from "@elector/fencing";
import pg from "pg";
import { migrate, recordRun } from "./billing.js";

const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl === undefined)
  throw new Error("set DATABASE_URL, e.g. postgresql://user:pass@127.0.0.1:5432/db");
const everyMs = Number(process.env.EVERY_MS ?? 1_000);

const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
const fence = await migrate(pool);
const elector = await createElector(process.env.ELECTOR_URL ?? "memory://", {
  election: "billing",
  ...(process.env.INSTANCE_ID ? { id: process.env.INSTANCE_ID } : {}),
});
const log = (line: string) => console.log(`[${elector.id}] ${line}`);

const shutdown = new AbortController();
process.once("SIGTERM", () => shutdown.abort());
process.once("SIGINT", () => shutdown.abort());

log(`waiting to lead on ${elector.backend}`);
await lead(
  elector,
  async (leadership) => {
    const { signal, token } = leadership;
    log(`leading with fencing token ${token}`);
    while (leadership.isActive()) {
      try {
        await recordRun(fence, token, elector.id);
        log(`recorded a billing run with token ${token}`);
      } catch (error) {
        // The fence, not the elector, had the last word: a newer leader has written.
        if (!isStaleTokenError(error)) throw error;
        log(`refused by the fence: token ${error.presented} < ${error.highest}; stepping down`);
        return;
      }
      await delay(everyMs, undefined, { signal }).catch(() => {});
    }
  },
  { signal: shutdown.signal, onError: (error) => log(`campaigning again after: ${String(error)}`) },
);
await elector.close();
await pool.end();
log("stopped");
