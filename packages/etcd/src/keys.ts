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
  });
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
