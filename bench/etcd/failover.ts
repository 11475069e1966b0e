// Crash failover: a leader process is killed (SIGKILL, so it cannot resign); how long until
// the waiting process is elected, minus the TTL. What is left is etcd's lease expiry check
// (every 500 ms), the revoke through Raft, the watch event and the re-check.
//
// Run: TSX_TSCONFIG_PATH=tsconfig.test.json pnpm exec tsx bench/etcd/failover.ts
// Environment: ROUNDS (default 20), TTL (seconds, default 2), ELECTOR_ETCD_IMAGE.
import { createEtcdElector } from "@elector/etcd";
import { EtcdContainer } from "@elector/testing";
import { CandidateProcess } from "../../test/fixtures/candidate-process.js";
import { machine, ms, percentile, table } from "../stats.js";

const rounds = Number(process.env.ROUNDS ?? 20);
const ttlSeconds = Number(process.env.TTL ?? 2);
const ttlMs = ttlSeconds * 1000;

async function main(): Promise<void> {
  await using etcd = await new EtcdContainer().start();
  const url = `etcd://${etcd.getHost()}:${etcd.getClientPort()}?ttl=${ttlSeconds}`;
  const beyondTtl: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const election = `bench-failover-${Date.now()}-${round}`;
    await using observer = await createEtcdElector({
      election,
      endpoints: etcd.getClientEndpoints(),
      ttlSeconds,
    });
    await using leader = await CandidateProcess.start({ url, election, id: "leader" });
    await leader.waitFor((event) => event.event === "elected", 30_000);
    await using successor = await CandidateProcess.start({ url, election, id: "successor" });
    while ((await observer.participants()).length < 2) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Let a keep-alive or two pass, so that the kill falls anywhere in the renewal cycle.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * ttlMs));
    const killedAt = Date.now();
    await leader.kill();
    const elected = await successor.waitFor((event) => event.event === "elected", ttlMs * 3);
    beyondTtl.push(elected.at - killedAt - ttlMs);
    process.stdout.write(".");
  }
  process.stdout.write("\n");
  console.log(`crash failover with TTL ${ttlSeconds} s, ${rounds} rounds`);
  console.log(machine());
  console.log(
    table(
      ["kill → successor elected, minus TTL", "p50 ms", "p90 ms", "min ms", "max ms"],
      [
        [
          "SIGKILL of the leader process",
          ms(percentile(beyondTtl, 50)),
          ms(percentile(beyondTtl, 90)),
          ms(Math.min(...beyondTtl)),
          ms(Math.max(...beyondTtl)),
        ],
      ],
    ),
  );
}

await main();
