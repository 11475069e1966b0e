// `pnpm demo`: three candidates of a singleton job, a freeze, a kill, and a fence that
// refuses the deposed leader's late write. Ends by itself with a summary and exit code 0.
import { checkReachable, chooseBackend, type DemoBackend } from "./backend.js";
import type { Candidate } from "./candidates.js";
import { runScenario } from "./scenario.js";

const startedAt = performance.now();
const print = (who: string, text: string) => {
  const seconds = ((performance.now() - startedAt) / 1_000).toFixed(2).padStart(6);
  process.stdout.write(`${seconds}s  ${who.padEnd(8)} ${text}\n`);
};

let backend: DemoBackend | undefined;
let candidates: readonly Candidate[] = [];
// Ctrl-C: leave no candidate process and no container behind.
process.once("SIGINT", () => {
  void Promise.allSettled(candidates.map((candidate) => candidate.kill()))
    .then(() => backend?.dispose())
    .finally(() => process.exit(130));
});

// `pnpm demo | head`: the reader has gone; clean up as on Ctrl-C.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.kill(process.pid, "SIGINT");
});

let code = 0;
try {
  print("demo", "elector demo: leader election with fencing tokens");
  backend = await chooseBackend(process.env);
  print("demo", `backend: ${backend.description}; TTL ${backend.ttlMs / 1_000}s`);
  await checkReachable(backend);
  const result = await runScenario(backend, print, (started) => {
    candidates = started;
  });
  const [first, second, third] = result.leaders;
  process.stdout.write(
    [
      "",
      "summary",
      `  backend   ${backend.name} (${backend.mode === "memory" ? "async workers in one process" : "separate processes"}), TTL ${backend.ttlMs / 1_000}s`,
      `  leaders   ${result.leaders.map(({ id, token }) => `${id} (token ${token})`).join(" → ")}`,
      `  failover  ${result.failoverAfterFreezeMs} ms after the freeze, ${result.failoverAfterKillMs} ms after the kill`,
      `  writes    ${result.accepted} accepted, ${result.rejected} rejected`,
      `  fenced    ${result.stale.id}'s write with token ${result.stale.token} came after ${second?.id}'s with token ${result.stale.highest}: refused`,
      `  checked   tokens grew with each term (${first?.token} < ${second?.token} < ${third?.token}), and the ledger's never went down`,
      "",
    ].join("\n"),
  );
} catch (error) {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  code = 1;
} finally {
  await backend?.dispose();
}
// The etcd client and Docker's sockets may linger a moment; the demo is over.
process.exit(code);
