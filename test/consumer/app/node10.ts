// Type-checked with `moduleResolution: node10`, which reads `types` and `typesVersions`
// rather than `exports`: every package's types, and core's `backend` entry, must resolve.
import type { Elector, Leadership } from "@elector/core";
import type { BackendModule } from "@elector/core/backend";
import type { EtcdElector } from "@elector/etcd";
import type { Fence } from "@elector/fencing";

export type Resolved = [Elector, Leadership, BackendModule<never>, EtcdElector, Fence];
