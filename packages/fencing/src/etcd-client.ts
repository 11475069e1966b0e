// The part of the `etcd3` client (v1.1) that the etcd fence and the guarded write use, typed
// structurally: an `Etcd3` client, or a `Namespace` from `client.namespace(prefix)`, fits,
// and an app that fences with PostgreSQL compiles without etcd3 installed.

/** What a transaction may compare on a key, as etcd3 names it. */
export type EtcdCompareTarget = "Version" | "Create" | "Mod" | "Value" | "Lease";

/** A comparison operator of an etcd transaction, as etcd3 names it. */
export type EtcdComparator = "==" | "===" | ">" | "<" | "!=" | "!==";

/** One key-value pair in an etcd response (etcd3's `IKeyValue`). */
export interface EtcdKeyValue {
  /** The key, without the namespace of the client that read it. */
  readonly key: Buffer;
  /** The value. */
  readonly value: Buffer;
  /** The revision that created the key, in decimal: a leader key's fencing token. */
  readonly create_revision: string;
  /** The revision that last changed the key, in decimal. */
  readonly mod_revision: string;
}

/** A range response (etcd3's `IRangeResponse`). */
export interface EtcdRangeResponse {
  /** The keys found, in key order. */
  readonly kvs: readonly EtcdKeyValue[];
}

/** The response of one operation in a transaction (etcd3's `IResponseOp`). */
export interface EtcdResponseOp {
  /** Present when the operation was a read. */
  readonly response_range?: EtcdRangeResponse | null;
}

/** A transaction's response (etcd3's `ITxnResponse`). */
export interface EtcdTxnResponse {
  /** The response header: `revision` is the store's revision after the transaction. */
  readonly header: {
    /** The store's revision after the transaction, in decimal. */
    readonly revision: string;
  };
  /** Whether the comparisons held, so that the `then` operations were applied. */
  readonly succeeded: boolean;
  /** One response per applied operation, in order. */
  readonly responses: readonly EtcdResponseOp[];
}

/**
 * An operation that a transaction can carry: a builder such as `client.put(key).value(v)`,
 * `client.delete().key(key)` or `client.get(key)`. Building one sends nothing; the
 * transaction sends it.
 */
export interface EtcdOperation {
  /** The request this operation adds to a transaction. */
  op(): Promise<object>;
}

/** A transaction under construction (etcd3's `ComparatorBuilder`). */
export interface EtcdTransaction {
  /** Adds a comparison that must hold too. */
  and(
    key: string,
    column: EtcdCompareTarget,
    cmp: EtcdComparator,
    value: string | number,
  ): EtcdTransaction;
  /** The operations applied if every comparison holds. */
  then(...operations: EtcdOperation[]): EtcdTransaction;
  /** The operations applied otherwise. */
  else(...operations: EtcdOperation[]): EtcdTransaction;
  /** Sends the transaction. */
  commit(): Promise<EtcdTxnResponse>;
}

/** A single-key read (etcd3's `SingleRangeBuilder`). */
export interface EtcdSingleRange extends EtcdOperation {
  /** Sends the read. */
  exec(): Promise<EtcdRangeResponse>;
}

/** A prefix or range read (etcd3's `MultiRangeBuilder`). */
export interface EtcdMultiRange {
  /** Reads every key that starts with `prefix`. */
  prefix(prefix: string): EtcdMultiRange;
  /** Keeps keys created at `revision` or later. */
  minCreateRevision(revision: string): EtcdMultiRange;
  /** Keeps keys created at `revision` or earlier. */
  maxCreateRevision(revision: string): EtcdMultiRange;
  /** Sends the read. */
  exec(): Promise<EtcdRangeResponse>;
}

/** A put (etcd3's `PutBuilder`). */
export interface EtcdPut {
  /** Sets the value to put; the result can be sent or carried by a transaction. */
  value(value: string): EtcdOperation;
}

/**
 * The part of an `etcd3` client that `@elector/fencing` uses: pass an `Etcd3` instance, or
 * `client.namespace("app/")` to keep the fence's keys under a prefix.
 */
export interface EtcdClient {
  /** Starts a transaction with its first comparison. */
  if(
    key: string,
    column: EtcdCompareTarget,
    cmp: EtcdComparator,
    value: string | number,
  ): EtcdTransaction;
  /** Starts a read of one key. */
  get(key: string): EtcdSingleRange;
  /** Starts a read of many keys. */
  getAll(): EtcdMultiRange;
  /** Starts a put. */
  put(key: string): EtcdPut;
}
