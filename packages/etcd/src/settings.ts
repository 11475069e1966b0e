import type { Etcd3 } from "etcd3";
import type { CampaignSettings } from "./campaign-client.js";
import type { LeaseKeeper } from "./lease-keeper.js";

/** What every part of one etcd elector shares: its client, keys and timing. */
export interface EtcdSettings extends CampaignSettings {
  readonly client: Etcd3;
  readonly keeper: LeaseKeeper;
}
