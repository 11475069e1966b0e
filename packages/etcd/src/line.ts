import type { LeaderInfo, Participant } from "@elector/core";
import type { IKeyValue, IRangeRequest } from "etcd3";
import { callOptions } from "./client.js";
import { keySuffix } from "./keys.js";
import type { EtcdSettings } from "./settings.js";

/** The leader as read at one revision, with its key. */
export interface LeaderRead {
  readonly revision: bigint;
  readonly leader: LeaderInfo | undefined;
  readonly key: Buffer | undefined;
}

/** Every candidate of an election and every id, read in one transaction at one revision. */
export interface LineRead {
  readonly revision: bigint;
  /** The candidate keys, in line order (create revision); nested elections' keys left out. */
  readonly candidates: readonly IKeyValue[];
  /** The ids by lease hex. */
  readonly ids: ReadonlyMap<string, string>;
}

/**
 * Reads the whole line and the ids in one transaction, so at one revision: it cannot meet a
 * compacted revision.
 */
export async function readLineAt(settings: EtcdSettings): Promise<LineRead> {
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
  const candidates = (response.responses[0]?.response_range?.kvs ?? []).filter((kv) =>
    keys.isCandidate(kv.key),
  );
  const ids = new Map<string, string>();
  for (const kv of response.responses[1]?.response_range?.kvs ?? []) {
    ids.set(keySuffix(kv.key, keys.ids), kv.value.toString());
  }
  return { revision: BigInt(response.header.revision), candidates, ids };
}

/**
 * Every candidate in line order (create revision), read with the ids in one transaction, so
 * at one revision. A candidate without an id key (an `etcdctl elect` or Go candidate) has its
 * lease in hex as its id.
 */
export async function readLine(settings: EtcdSettings): Promise<Participant[]> {
  const { keys } = settings;
  const { candidates, ids } = await readLineAt(settings);
  return candidates.map((kv, index) => {
    const lease = keySuffix(kv.key, keys.candidates);
    return { ...toLeader(kv, ids.get(lease) ?? lease), leader: index === 0 };
  });
}

/** Keys read per page after a first page that held only nested elections' keys. */
const pageSize = 16;

/**
 * The candidate with the lowest create revision, and its id read at the same revision. The
 * reads after the first are pinned to its revision; if etcd compacted that revision meanwhile,
 * it starts again from the latest.
 */
export async function readLeader(settings: EtcdSettings): Promise<LeaderRead> {
  for (;;) {
    try {
      return await readLeaderOnce(settings);
    } catch (error) {
      if (!isCompacted(error)) throw error;
      settings.logger.debug({ err: error }, "the leader's revision was compacted; reading again");
    }
  }
}

async function readLeaderOnce(settings: EtcdSettings): Promise<LeaderRead> {
  const { client, keys, requestTimeoutMs } = settings;
  const range = (request: Partial<IRangeRequest>) =>
    client.kv.range(
      {
        key: keys.candidates.key,
        range_end: keys.candidates.rangeEnd,
        sort_target: "Create",
        sort_order: "Ascend",
        ...request,
      },
      callOptions(requestTimeoutMs),
    );
  // One key answers it, unless a nested election's keys come first in line.
  let page = await range({ limit: 1 });
  const revision = BigInt(page.header.revision);
  let kv = page.kvs.find((candidate) => keys.isCandidate(candidate.key));
  while (kv === undefined && page.more) {
    const last = page.kvs.at(-1) as IKeyValue;
    page = await range({
      revision: revision.toString(),
      min_create_revision: (BigInt(last.create_revision) + 1n).toString(),
      limit: pageSize,
    });
    kv = page.kvs.find((candidate) => keys.isCandidate(candidate.key));
  }
  if (kv === undefined) return { revision, leader: undefined, key: undefined };
  const lease = keySuffix(kv.key, keys.candidates);
  const id = await client.kv.range(
    { key: keys.id(lease), revision: revision.toString() },
    callOptions(requestTimeoutMs),
  );
  return { revision, leader: toLeader(kv, id.kvs[0]?.value.toString() ?? lease), key: kv.key };
}

/** Whether etcd refused a read or watch because its revision was compacted away. */
export function isCompacted(error: unknown): boolean {
  return error instanceof Error && error.message.includes("required revision has been compacted");
}

/** The leader that a candidate key describes. */
export function toLeader(kv: IKeyValue, id: string): LeaderInfo {
  return { id, value: kv.value.toString(), token: BigInt(kv.create_revision) };
}
