import type { Logger } from "@elector/core";
import type { Etcd3 } from "etcd3";
import type { ElectionKeys } from "./keys.js";
import type { LeaseKeeper } from "./lease-keeper.js";

/** What every part of one etcd elector shares: its client, keys and timing. */
export interface EtcdSettings {
  readonly client: Etcd3;
  readonly keeper: LeaseKeeper;
  readonly keys: ElectionKeys;
  /** The elector's id, stored in the id key. */
  readonly id: string;
  readonly ttlSeconds: number;
  readonly safetyMarginMs: number;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
}
