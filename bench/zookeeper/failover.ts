// Crash failover of @elector/zookeeper: a leader process is SIGKILLed; how long until its
// successor (in this process) is elected, minus the session timeout. What remains is the
// server's expiry granularity (sessions expire in tick-sized buckets) and the handoff.
//
// Run: TSX_TSCONFIG_PATH=tsconfig.test.json pnpm exec tsx bench/zookeeper/failover.ts
// Env: ROUNDS (default 15), SESSION_TIMEOUT_MS (default 2000).
import { cpus } from "node:os";
import type { Logger } from "@elector/core";
import { ZooKeeperContainer } from "@elector/testing";
import { createZooKeeperElector } from "@elector/zookeeper";
import { CandidateProcess } from "../../test/fixtures/candidate-process.js";
import { percentile } from "../stats.js";

const rounds = Number(process.env.ROUNDS ?? 15);
const sessionTimeoutMs = Number(process.env.SESSION_TIMEOUT_MS ?? 2000);

/** Resolves the next time the elector logs `message`. */
function logTap(): { logger: Logger; next(message: string): Promise<void> } {
  const waiting = new Map<string, () => void>();
  const log = (fields: Record<string, unknown> | string, message?: string) => {
    const text = typeof fields === "string" ? fields : (message ?? "");
    waiting.get(text)?.();
    waiting.delete(text);
  };
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return {
    logger,
    next: (message) => new Promise((resolve) => waiting.set(message, resolve)),
  };
}

console.log(
  `elector ZooKeeper crash failover benchmark, ${new Date().toISOString()}, node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}`,
);
await using zookeeper = await new ZooKeeperContainer().start();
console.log(
  `rounds ${rounds}, session timeout ${sessionTimeoutMs} ms, server tickTime ${zookeeper.tickTimeMs} ms`,
);
const connect = zookeeper.getConnectionString();
const url = `zk://${connect}/elector?sessionTimeoutMs=${sessionTimeoutMs}`;
const samples: number[] = [];
for (let round = 0; round < rounds; round++) {
  const election = `failover-${Date.now().toString(36)}-${round}`;
  const leader = await CandidateProcess.start({ url, election, id: "doomed" });
  const tap = logTap();
  const heir = await createZooKeeperElector({
    servers: [connect],
    sessionTimeoutMs,
    election,
    id: "heir",
    logger: tap.logger,
  });
  try {
    await leader.waitFor((event) => event.event === "leading", 30_000);
    const waiting = tap.next("waiting for the predecessor");
    const campaign = heir.campaign();
    await waiting;
    const killedAt = performance.now();
    await leader.kill();
    const leadership = await campaign;
    const failoverMs = performance.now() - killedAt;
    samples.push(failoverMs - sessionTimeoutMs);
    console.log(`round ${round + 1}: successor after ${failoverMs.toFixed(0)} ms`);
    await leadership.resign();
  } finally {
    await heir.close();
    await leader.stop();
  }
}
const format = (ms: number) => ms.toFixed(0);
console.log(
  `failover minus session timeout: median ${format(percentile(samples, 50))} ms, min ${format(Math.min(...samples))} ms, p90 ${format(percentile(samples, 90))} ms, max ${format(Math.max(...samples))} ms`,
);
