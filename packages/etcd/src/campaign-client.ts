import type { Logger } from "@elector/core";
import type {
  Etcd3,
  ILeaseGrantRequest,
  ILeaseGrantResponse,
  ILeaseRevokeRequest,
  ILeaseRevokeResponse,
  ILeaseTimeToLiveRequest,
  ILeaseTimeToLiveResponse,
  ITxnRequest,
  ITxnResponse,
} from "etcd3";
import { KeyWatch, type KeyWatchListener } from "./key-watch.js";
import type { ElectionKeys } from "./keys.js";
import type { LeaseListener } from "./lease-keeper.js";

/** The gRPC options the elector passes: a deadline. */
export interface CallOptions {
  readonly deadline: Date;
}

/** A watch of one key that has started. */
export interface StartedWatch {
  readonly watch: { close(): void };
  /** Whether the store was still at the read's revision when the watch began; see `KeyWatch`. */
  readonly inStep: boolean;
}

/**
 * The part of an etcd client that one campaign uses: transactions, its lease, and watches of
 * single keys. An `Etcd3` client, through {@link campaignClient}, is one; unit tests give a fake.
 */
export interface CampaignClient {
  readonly kv: {
    txn(request: ITxnRequest, options?: CallOptions): Promise<ITxnResponse>;
  };
  readonly leaseClient: {
    leaseGrant(request: ILeaseGrantRequest, options?: CallOptions): Promise<ILeaseGrantResponse>;
    leaseRevoke(request: ILeaseRevokeRequest, options?: CallOptions): Promise<ILeaseRevokeResponse>;
    leaseTimeToLive(
      request: ILeaseTimeToLiveRequest,
      options?: CallOptions,
    ): Promise<ILeaseTimeToLiveResponse>;
  };
  /**
   * Watches `key` from `readRevision + 1`.
   *
   * @throws the signal's reason if it aborts first, or the watch's error.
   */
  watchKey(
    key: Buffer,
    readRevision: bigint,
    listener: KeyWatchListener,
    signal: AbortSignal,
  ): Promise<StartedWatch>;
}

/** The part of a `LeaseKeeper` that a campaign uses. */
export interface LeaseKeeping {
  keep(leaseId: string, ttlSeconds: number, listener: LeaseListener): () => void;
}

/** What one campaign needs of its elector. */
export interface CampaignSettings {
  readonly campaignClient: CampaignClient;
  readonly keeper: LeaseKeeping;
  readonly keys: ElectionKeys;
  /** The elector's id, stored in the id key. */
  readonly id: string;
  readonly ttlSeconds: number;
  readonly safetyMarginMs: number;
  readonly requestTimeoutMs: number;
  readonly logger: Logger;
}

/** The {@link CampaignClient} of an `Etcd3` client. */
export function campaignClient(client: Etcd3): CampaignClient {
  return {
    kv: client.kv,
    leaseClient: client.leaseClient,
    watchKey: (key, readRevision, listener, signal) =>
      KeyWatch.start(client, key, readRevision, listener, signal),
  };
}
