import type { LeaderInfo, Participant } from "@elector/core";
import type { IKeyValue } from "etcd3";
import { callOptions } from "./client.js";
import { keySuffix } from "./keys.js";
import type { EtcdSettings } from "./settings.js";

/** The leader as read at one revision, with its key (to watch it). */
export interface LeaderRead {
  readonly revision: bigint;
  readonly leader: LeaderInfo | undefined;
  readonly key: Buffer | undefined;
}

/**
 * Every candidate in line order (create revision), read with the ids in one transaction, so
 * at one revision. A candidate without an id key (an `etcdctl elect` or Go candidate) has its
 * lease in hex as its id.
 */
export async function readLine(settings: EtcdSettings): Promise<Participant[]> {
  const { client, keys, requestTimeoutMs } = settings;
  const response = await client.kv.txn(
    {
      compare: [],
      success: [
        {
          request_range: {
            key: keys.candidates.key,
            range_end: keys.candidates.rangeEnd,
            sort_target: "Create",
            sort_order: "Ascend",
          },
        },
        { request_range: { key: keys.ids.key, range_end: keys.ids.rangeEnd } },
      ],
      failure: [],
    },
    callOptions(requestTimeoutMs),
  );
  const candidates = response.responses[0]?.response_range?.kvs ?? [];
  const ids = new Map<string, string>();
  for (const kv of response.responses[1]?.response_range?.kvs ?? []) {
    ids.set(keySuffix(kv.key, keys.ids), kv.value.toString());
  }
  return candidates.map((kv, index) => {
    const lease = keySuffix(kv.key, keys.candidates);
    return { ...toLeader(kv, ids.get(lease) ?? lease), leader: index === 0 };
  });
}

/** The candidate with the lowest create revision, and its id read at the same revision. */
export async function readLeader(settings: EtcdSettings): Promise<LeaderRead> {
  const { client, keys, requestTimeoutMs } = settings;
  const first = await client.kv.range(
    {
      key: keys.candidates.key,
      range_end: keys.candidates.rangeEnd,
      sort_target: "Create",
      sort_order: "Ascend",
      limit: 1,
    },
    callOptions(requestTimeoutMs),
  );
  const revision = BigInt(first.header.revision);
  const kv = first.kvs[0];
  if (kv === undefined) return { revision, leader: undefined, key: undefined };
  const lease = keySuffix(kv.key, keys.candidates);
  const id = await client.kv.range(
    { key: keys.id(lease), revision: revision.toString() },
    callOptions(requestTimeoutMs),
  );
  return { revision, leader: toLeader(kv, id.kvs[0]?.value.toString() ?? lease), key: kv.key };
}

/** The leader that a candidate key describes. */
export function toLeader(kv: IKeyValue, id: string): LeaderInfo {
  return { id, value: kv.value.toString(), token: BigInt(kv.create_revision) };
}
