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
import type { ElectionKeys, KeyRange } from "./keys.js";
import type { LeaseListener } from "./lease-keeper.js";
import type { CreatedRangeWatch, LineWatch } from "./line-watch.js";

/** The gRPC options the elector passes: a deadline. */
export interface CallOptions {
  readonly deadline: Date;
}

/**
 * The part of an etcd client that one campaign uses: transactions, its lease, and the watch
 * of the election's range. An `Etcd3` client, through {@link campaignClient}, is one; unit tests give a fake.
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
   * Watches `range` from now; resolves once etcd created the watch, with the revision of its
   * created answer.
   *
   * @throws the signal's reason if it aborts first, or the watch's error.
   */
  watchRange(
    range: KeyRange,
    listener: KeyWatchListener,
    signal: AbortSignal,
  ): Promise<CreatedRangeWatch>;
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
  /** The watch of the election's candidates, shared by the electors of the client. */
  readonly lineWatch: LineWatch;
  /**
   * Whether the server is known to deliver every change of a watcher in order (see
   * `keepsWatchOrder`): only then may a waiter lead on its predecessor's delete alone.
   */
  readonly watchOrderKept: () => boolean;
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
    watchRange: (range, listener, signal) => KeyWatch.fromNow(client, range, listener, signal),
  };
}
