// A fenced writer in a process of its own, so that it can be frozen with SIGSTOP like a real
// app in a GC pause. It reports JSON lines on stdout (see event-log.ts) and, when told to
// stall, stops itself with SIGSTOP right after deciding to write; the test resumes it.
//
// Environment: ELECTOR_URL, ELECTION, WRITER_ID, LEDGER_URL, TICK_MS, STALL_BEFORE_WRITE.
import { createElector } from "@elector/core";
import { eventLine } from "./event-log.js";
import { runFencedWriter } from "./fenced-writer.js";

const report = (event: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${eventLine(event, fields)}\n`);

const elector = await createElector(required("ELECTOR_URL"), {
  election: required("ELECTION"),
  id: required("WRITER_ID"),
});
elector.on("lost", ({ reason, token }) => report("lost", { reason, token }));

const stopping = new AbortController();
process.on("SIGTERM", () => stopping.abort());
const stallBeforeWrite = Number(process.env.STALL_BEFORE_WRITE ?? 0);

report("ready", { pid: process.pid });
try {
  await runFencedWriter({
    elector,
    ledgerUrl: required("LEDGER_URL"),
    tickMs: Number(process.env.TICK_MS ?? 50),
    ...(stallBeforeWrite > 0 ? { stallBeforeWrite } : {}),
    // Delivered before kill() returns: the process stops here, between decision and write.
    stall: () => {
      process.kill(process.pid, "SIGSTOP");
    },
    signal: stopping.signal,
    report,
  });
} catch (error) {
  report("failed", { message: error instanceof Error ? error.message : String(error) });
}
await elector.close();
report("closed");
process.exit(0);

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    process.stderr.write(`fenced-writer: ${name} is not set\n`);
    process.exit(2);
  }
  return value;
}
