// A job that must run on exactly one instance, on a schedule: every instance runs this
// program, lead() makes one of them the leader, and only the leader runs the job. When the
// leader stops or dies, another instance picks up the schedule at the next slot.
//
// Environment: ELECTOR_URL (default memory://), INSTANCE_ID (default: host-pid-random),
// EVERY_MS (default 5000): the job runs at each multiple of EVERY_MS on the wall clock.
import { setTimeout as delay } from "node:timers/promises";
import { createElector, isLeadershipLostError, type Leadership, lead } from "@elector/core";

const everyMs = Number(process.env.EVERY_MS ?? 5_000);
const elector = await createElector(process.env.ELECTOR_URL ?? "memory://", {
  election: "singleton-cron",
  ...(process.env.INSTANCE_ID ? { id: process.env.INSTANCE_ID } : {}),
});
const log = (line: string) => console.log(`[${elector.id}] ${line}`);

// SIGTERM or Ctrl-C: lead() resigns (the next instance takes over at once) and returns.
const shutdown = new AbortController();
process.once("SIGTERM", () => shutdown.abort());
process.once("SIGINT", () => shutdown.abort());

log(`waiting to lead on ${elector.backend}`);
await lead(elector, runSchedule, {
  signal: shutdown.signal,
  onError: (error) => log(`job failed, campaigning again: ${String(error)}`),
});
await elector.close();
log("stopped");

/** Runs the job at each slot for as long as this instance leads. */
async function runSchedule(leadership: Leadership): Promise<void> {
  log(`leading with fencing token ${leadership.token}`);
  const { signal } = leadership;
  while (!signal.aborted) {
    // Slots on the wall clock, so that a new leader continues the old one's schedule.
    const slot = Math.floor(Date.now() / everyMs) * everyMs + everyMs;
    await delay(slot - Date.now(), undefined, { signal }).catch(() => {});
    // Right before the side effect: still the leader? (false after a long pause, at once)
    if (!leadership.isActive()) break;
    await runJob(new Date(slot), leadership.token);
  }
  const reason = isLeadershipLostError(signal.reason) ? signal.reason.code : "stopped";
  log(`no longer leading (${reason})`);
}

/** The job itself. Pass the token to whatever it writes to; see examples/fenced-postgres. */
async function runJob(slot: Date, token: bigint): Promise<void> {
  log(`ran the job for slot ${slot.toISOString()} with token ${token}`);
}
