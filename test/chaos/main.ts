// `pnpm chaos`: the fault campaign of issue 13. See `pnpm chaos --help` and docs/safety.md.
import { formatReport } from "./checker.js";
import { ChaosUsageError, parseChaosOptions, usage } from "./options.js";
import { type RunResult, runCampaign } from "./run.js";

let options: ReturnType<typeof parseChaosOptions>;
try {
  options = parseChaosOptions(process.argv.slice(2), process.env);
} catch (error) {
  if (!(error instanceof ChaosUsageError)) throw error;
  console.error(`chaos: ${error.message}`);
  process.exit(2);
}
if (options.help) {
  console.log(usage);
  process.exit(0);
}

const userUrl = process.env.ELECTOR_URL === "" ? undefined : process.env.ELECTOR_URL;
console.log(
  `chaos: ${options.faults} faults per backend (${options.backends.join(", ")}), seed ${options.seed}${options.broken ? ", BROKEN candidates" : ""}`,
);
// The backends run side by side: each has its own servers, candidates and ledger.
const settled = await Promise.allSettled(
  options.backends.map((backend) =>
    runCampaign({
      backend,
      seed: options.seed,
      faults: options.faults,
      broken: options.broken,
      candidates: options.candidates,
      ledgerDir: options.ledgerDir,
      kinds: options.kinds,
      userUrl,
      say: (line) => console.log(`[${backend}] ${line}`),
    }),
  ),
);

let violations = 0;
let failed = false;
for (const [index, outcome] of settled.entries()) {
  const backend = options.backends[index];
  console.log("");
  if (outcome.status === "rejected") {
    failed = true;
    console.log(
      `${backend}: the run failed: ${outcome.reason instanceof Error ? (outcome.reason.stack ?? outcome.reason.message) : String(outcome.reason)}`,
    );
    continue;
  }
  const run: RunResult = outcome.value;
  violations += run.result.violations.length;
  console.log(`${run.backend}: ${run.faults} faults in ${run.seconds} s on ${run.description}`);
  console.log(`  ledger: ${run.ledger}`);
  for (const line of formatReport(run.result)) console.log(line);
  if (run.result.violations.length > 0) {
    console.log(
      `  reproduce the schedule with: pnpm chaos --backend ${run.backend} --seed ${options.seed} --faults ${run.faults}${options.kinds === undefined ? "" : ` --kinds ${options.kinds.join(",")}`}${options.broken ? " --break" : ""}`,
    );
  }
}
console.log(`violations: ${violations}`);
process.exit(violations > 0 ? 1 : failed ? 2 : 0);
