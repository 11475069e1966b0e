// `pnpm bench [filter…]`: runs every benchmark, one after another so that none disturbs
// another's numbers, each in a process of its own. A filter keeps the benchmarks whose path
// contains it: `pnpm bench zookeeper`, `pnpm bench handoff`.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const benchmarks = [
  "etcd/handoff.ts",
  "etcd/failover.ts",
  "etcd/scale.ts",
  "zookeeper/handoff.ts",
  "zookeeper/failover.ts",
];

const filters = process.argv.slice(2);
const chosen = benchmarks.filter(
  (benchmark) => filters.length === 0 || filters.some((filter) => benchmark.includes(filter)),
);
if (chosen.length === 0) {
  console.error(`no benchmark matches ${filters.join(", ")}; there are: ${benchmarks.join(", ")}`);
  process.exit(2);
}
for (const benchmark of chosen) {
  console.log(`\n## ${benchmark}\n`);
  const result = spawnSync(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL(benchmark, import.meta.url))],
    { stdio: "inherit", env: process.env },
  );
  if (result.status !== 0) {
    console.error(`${benchmark} failed with ${result.status ?? result.signal}`);
    process.exit(1);
  }
}
