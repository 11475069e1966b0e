// A consumer's CommonJS program: `require()` of the packed ESM packages (Node.js ≥ 20.19
// loads ES modules from require), against memory and a real etcd.
"use strict";
const { createElector, isElectorError } = require("@elector/core");
const { createEtcdElector } = require("@elector/etcd");
const { MemoryFence } = require("@elector/fencing");

async function exercise(label, elector) {
  try {
    const leadership = await elector.campaign({ value: `${label}-value` });
    if (typeof leadership.token !== "bigint") throw new Error(`${label}: token is not a bigint`);
    const leader = await elector.leader();
    if (leader?.value !== `${label}-value`) throw new Error(`${label}: leader() is wrong`);
    await leadership.resign();
    if (leadership.isActive()) throw new Error(`${label}: still active after resign()`);
    console.log(`cjs ${label}: elected with token ${leadership.token}, resigned`);
  } finally {
    await elector.close();
  }
}

async function main() {
  const endpoint = process.env.ETCD_ENDPOINT;
  if (endpoint === undefined) throw new Error("ETCD_ENDPOINT is not set");
  await exercise("memory", await createElector("memory://consumer", { election: "cjs" }));
  await exercise(
    "etcd",
    await createEtcdElector({ endpoints: [endpoint], prefix: "consumer-cjs", election: "cjs" }),
  );
  console.log(`cjs fencing: ${new MemoryFence().constructor.name}`);
  try {
    await createElector("memory://", { election: "not a valid name!" });
    throw new Error("an invalid election name was accepted");
  } catch (error) {
    if (!isElectorError(error)) throw error;
    console.log(`cjs errors: ${error.code}`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
