// One candidate in a process of its own, so that the demo can freeze it (SIGSTOP) and kill
// it (SIGKILL) as an operating system would. It reports CandidateEvents as JSON lines on
// stdout and takes "hold", "release" and "stop" lines on stdin.
//
// Environment: ELECTOR_URL, DEMO_ELECTION, DEMO_ID, DEMO_LEDGER_URL, DEMO_TICK_MS.
import { createInterface } from "node:readline";
import { createElector } from "@elector/core";
import { type CandidateEvent, runCandidate, WriteGate } from "./candidate.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`candidate-process: ${name} is not set`);
  return value;
};

const report = (event: CandidateEvent) => process.stdout.write(`${JSON.stringify(event)}\n`);
const elector = await createElector(env("ELECTOR_URL"), {
  election: env("DEMO_ELECTION"),
  id: env("DEMO_ID"),
});
const gate = new WriteGate();
const stop = new AbortController();
const commands = createInterface({ input: process.stdin });
commands.on("line", (line) => {
  if (line === "hold") gate.holdNext();
  else if (line === "release") gate.release();
  else if (line === "stop") stop.abort();
});
// The demo gone (crashed, killed): stdin ends, or a report finds no reader. This candidate
// must not outlive it.
commands.on("close", () => stop.abort());
process.stdout.on("error", () => stop.abort());
process.on("SIGTERM", () => stop.abort());

await runCandidate({
  elector,
  ledgerUrl: env("DEMO_LEDGER_URL"),
  tickMs: Number(env("DEMO_TICK_MS")),
  gate,
  report,
  signal: stop.signal,
});
gate.release();
await elector.close();
commands.close();
