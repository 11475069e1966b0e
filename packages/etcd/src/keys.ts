import { InvalidOptionError } from "@elector/core";

/**
 * Where one election lives in etcd. The candidate keys follow etcd's Go `concurrency.Election`
 * exactly, so that `etcdctl elect` and Go programs share the line with us; the ids live beside
 * them, outside the range that Go reads.
 *
 * - candidate: `<prefix>/<election>/<lease ID in lowercase hex>`, holding the advertised value;
 * - candidate id: `<prefix>/<election>#id/<lease ID in lowercase hex>`, holding the elector's id.
 *
 * With the default prefix `""` the leading `<prefix>/` is left out, as `etcdctl elect` does.
 * Both keys are attached to the same lease, so they come and go together.
 *
 * Names may nest (`jobs` and `jobs/billing`, or prefix `jobs` with election `billing`): then
 * the keys of the inner election lie inside the candidates' range of the outer one. A
 * candidate key is therefore `<name>/` followed by a lease ID in hex and nothing else; every
 * other key in the range belongs to a nested election and is not a candidate.
 */
export interface ElectionKeys {
  /** `<prefix>/<election>`: the name Go's `concurrency.NewElection` is given. */
  readonly name: string;
  /** The candidates' range: every key that starts with `<name>/`. */
  readonly candidates: KeyRange;
  /** The ids' range: every key that starts with `<name>#id/`. */
  readonly ids: KeyRange;
  /** The candidate key of a lease. */
  candidate(leaseHex: string): Buffer;
  /** The id key of a lease. */
  id(leaseHex: string): Buffer;
  /**
   * Whether `key`, found in the candidates' range, is a candidate of this election: `<name>/`
   * and a lease ID in hex. A key of a nested election (`<name>/<more>/…`) is not.
   */
  isCandidate(key: Buffer): boolean;
}

/** A range of keys as etcd takes it: `[key, rangeEnd)`. */
export interface KeyRange {
  /** The first key of the range. */
  readonly key: Buffer;
  /** The first key after the range. */
  readonly rangeEnd: Buffer;
}

/** `#` cannot occur in an election name, so no election's range holds another's id keys. */
const idSuffix = "#id/";

/** What follows `<name>/` in a candidate key: a positive int64 as Go's `%x` prints it. */
const leaseHexPattern = /^[0-9a-f]{1,16}$/;

/** The keys of `election` under `prefix` (both already validated by `@elector/core`). */
export function electionKeys(prefix: string, election: string): ElectionKeys {
  const name = prefix === "" ? election : `${prefix}/${election}`;
  const candidates = prefixRange(`${name}/`);
  const ids = prefixRange(`${name}${idSuffix}`);
  return Object.freeze({
    name,
    candidates,
    ids,
    candidate: (leaseHex: string) => Buffer.from(`${name}/${leaseHex}`),
    id: (leaseHex: string) => Buffer.from(`${name}${idSuffix}${leaseHex}`),
    isCandidate: (key: Buffer) =>
      key.length > candidates.key.length &&
      key.subarray(0, candidates.key.length).equals(candidates.key) &&
      leaseHexPattern.test(key.subarray(candidates.key.length).toString("latin1")),
  });
}

/**
 * `key`, read as the candidate next to ours, if it is a candidate of this election; a campaign
 * cannot wait behind another election's key, so one nested inside this election's range is
 * refused.
 *
 * @throws InvalidOptionError naming the election and the nested key.
 */
export function candidateOrRefuse(keys: ElectionKeys, key: Buffer | undefined): Buffer | undefined {
  if (key === undefined || keys.isCandidate(key)) return key;
  throw new InvalidOptionError(
    "election",
    keys.name,
    `a name that no other election's keys nest under, but ${key.toString()} lies in its range ${keys.candidates.key.toString()}`,
  );
}

/** The range of every key that starts with `prefix`. */
export function prefixRange(prefix: string): KeyRange {
  const key = Buffer.from(prefix);
  const rangeEnd = Buffer.from(key);
  for (let index = rangeEnd.length - 1; index >= 0; index--) {
    const byte = rangeEnd[index] as number;
    if (byte < 0xff) {
      rangeEnd[index] = byte + 1;
      return { key, rangeEnd: rangeEnd.subarray(0, index + 1) };
    }
  }
  // Only 0xff bytes: every key from `prefix` on (etcd's "\0" range end).
  return { key, rangeEnd: Buffer.from([0]) };
}

/**
 * A lease ID as Go prints it in a candidate key: lowercase hex of the int64, as
 * `fmt.Sprintf("%x", leaseID)` does (etcd grants positive IDs only).
 */
export function leaseHex(leaseId: string): string {
  return BigInt(leaseId).toString(16);
}

/** The part of `key` after the range's prefix: the lease hex of a candidate or id key. */
export function keySuffix(key: Buffer, range: KeyRange): string {
  return key.subarray(range.key.length).toString();
}
