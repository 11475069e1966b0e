// A consumer's ESM program, type-checked with `module: nodenext` and `strict` against the
// packed tarballs, then run against memory and a real etcd. It uses only public entry points.
import {
  createElector,
  type Elector,
  isElectorError,
  type LeaderInfo,
  type Leadership,
} from "@elector/core";
import type { BackendModule } from "@elector/core/backend";
import { createEtcdElector } from "@elector/etcd";
import { type Fence, MemoryFence } from "@elector/fencing";

async function exercise(label: string, elector: Elector): Promise<void> {
  try {
    const leadership: Leadership = await elector.campaign({ value: `${label}-value` });
    const token: bigint = leadership.token;
    if (!leadership.isActive()) throw new Error(`${label}: not active right after election`);
    const leader: LeaderInfo | undefined = await elector.leader();
    if (leader?.value !== `${label}-value`) {
      throw new Error(`${label}: leader() returned ${JSON.stringify(leader?.value)}`);
    }
    await leadership.resign();
    if (leadership.isActive() || !leadership.signal.aborted) {
      throw new Error(`${label}: still active after resign()`);
    }
    console.log(`esm ${label}: elected with token ${token}, resigned`);
  } finally {
    await elector.close();
  }
}

const endpoint = process.env.ETCD_ENDPOINT;
if (endpoint === undefined) throw new Error("ETCD_ENDPOINT is not set");

await exercise("memory", await createElector("memory://consumer", { election: "esm" }));
await exercise(
  "etcd-url",
  await createElector(`etcd://${new URL(endpoint).host}/consumer?ttl=5`, { election: "esm" }),
);
await exercise(
  "etcd-direct",
  await createEtcdElector({ endpoints: [endpoint], prefix: "consumer-direct", election: "esm" }),
);

const fence: Fence = new MemoryFence();
console.log(`esm fencing: ${fence.constructor.name}`);

// A type from the backend entry point, so that its declarations must resolve too.
const backend: BackendModule<never> | undefined = undefined;
console.log(`esm backend types: ${backend === undefined ? "resolved" : "?"}`);

try {
  await createElector("memory://", { election: "not a valid name!" });
  throw new Error("an invalid election name was accepted");
} catch (error) {
  if (!isElectorError(error)) throw error;
  console.log(`esm errors: ${error.code}`);
}
