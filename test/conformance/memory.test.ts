import { createMemoryElector, type MemoryElector } from "@elector/core";
import { describeConformance } from "./suite.js";

const ttlMs = 300;
const asMemory = (elector: unknown) => elector as MemoryElector;

describeConformance("memory", {
  ttlMs,
  create: async (election, id) =>
    createMemoryElector({ election, id, name: `conformance-${process.pid}`, ttlMs }),
  faults: [
    {
      name: "the server expires the lease",
      reason: "lease-expired",
      inject: async (elector) => asMemory(elector).faults.expireSession(),
    },
    {
      name: "someone else deletes the key",
      reason: "deleted",
      inject: async (elector) => asMemory(elector).faults.deleteKey(),
    },
    {
      name: "renewals stop",
      reason: "deadline-passed",
      inject: async (elector) => asMemory(elector).faults.stopRenewals(),
    },
  ],
  silence: async (elector) => asMemory(elector).faults.stopRenewals(),
});
