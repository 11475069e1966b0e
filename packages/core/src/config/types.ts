import type { Logger } from "../logger.js";

/**
 * The in-process backend: electors in one process share elections by `name`.
 *
 * @example `memory://`, `memory://tests?ttlMs=300`
 */
export interface MemoryConfig {
  /** Selects this backend. */
  readonly backend: "memory";
  /**
   * Electors share elections only within the same name.
   * @defaultValue `"default"`
   */
  readonly name?: string;
  /**
   * How long a candidate's key outlives its last renewal, in milliseconds, from 20 to 3,600,000.
   * @defaultValue 10000
   */
  readonly ttlMs?: number;
  /**
   * How much earlier than the TTL a leader steps down, in milliseconds: at least 1% of the TTL
   * (and 1 ms), at most half of it.
   * @defaultValue a tenth of the TTL
   */
  readonly safetyMarginMs?: number;
}

/** TLS settings of the etcd backend: files in PEM format. */
export interface EtcdTlsConfig {
  /** CA certificates that sign the server's certificate; default: the system's. */
  readonly caFile?: string;
  /** A client certificate, for mutual TLS. */
  readonly certFile?: string;
  /** The client certificate's key, for mutual TLS. */
  readonly keyFile?: string;
}

/**
 * The etcd backend (`@elector/etcd`).
 *
 * @example `etcd://10.0.0.1:2379,10.0.0.2:2379/services?ttl=10`, `etcds://user:pass@etcd:2379`
 */
export interface EtcdConfig {
  /** Selects this backend. */
  readonly backend: "etcd";
  /**
   * Client URLs or `host:port` pairs of the cluster's members. Optional when `client` is given.
   */
  readonly endpoints?: readonly string[];
  /**
   * The key prefix under which elections live: election `e` uses keys `<prefix>/e/<lease>`.
   * @defaultValue `""`: keys `e/<lease>`, as `etcdctl elect e` uses.
   */
  readonly prefix?: string;
  /**
   * The lease TTL in whole seconds, from 2 to 3600.
   * @defaultValue 10
   */
  readonly ttlSeconds?: number;
  /**
   * How much earlier than the TTL a leader steps down, in milliseconds: at least 100 and 1% of
   * the TTL, at most half of it. See docs/safety.md for what the margin covers.
   * @defaultValue the larger of 500 and a tenth of the TTL
   */
  readonly safetyMarginMs?: number;
  /** Use TLS: `true` for the system's CAs, or files. `etcds://` sets `true`. */
  readonly tls?: boolean | EtcdTlsConfig;
  /** User and password authentication. Never logged. */
  readonly auth?: {
    /** The etcd user. */
    readonly username: string;
    /** Its password. */
    readonly password: string;
  };
  /**
   * An existing `Etcd3` client to share (its connection, and one keep-alive stream for every
   * elector on it). The elector does not close it.
   */
  readonly client?: unknown;
  /**
   * How long one request may wait for the cluster, in milliseconds.
   * @defaultValue 5000
   */
  readonly requestTimeoutMs?: number;
}

/**
 * The ZooKeeper backend (`@elector/zookeeper`).
 *
 * @example `zk://10.0.0.1:2181,10.0.0.2:2181/elector?sessionTimeoutMs=10000`
 */
export interface ZooKeeperConfig {
  /** Selects this backend. */
  readonly backend: "zookeeper";
  /** `host:port` pairs of the ensemble's servers. */
  readonly servers: readonly string[];
  /**
   * The znode under which elections live: election `e` uses children of `<path>/e`.
   * @defaultValue `"/elector"`
   */
  readonly path?: string;
  /**
   * The session timeout to ask for, in milliseconds, from 1000 to 600000. The server may
   * grant another within its own bounds; deadlines use the granted one.
   * @defaultValue 10000
   */
  readonly sessionTimeoutMs?: number;
  /**
   * How much earlier than the session timeout a leader steps down, in milliseconds: at least
   * 100 and 1% of the timeout, at most half of it.
   * @defaultValue the larger of 500 and a tenth of the timeout
   */
  readonly safetyMarginMs?: number;
}

/** Where to hold elections: one of the backends, as an object. URLs parse into these. */
export type ElectorConfig = MemoryConfig | EtcdConfig | ZooKeeperConfig;

/** {@link MemoryConfig} with every default applied. */
export type ResolvedMemoryConfig = Readonly<Required<MemoryConfig>>;

/**
 * {@link EtcdConfig} with every default applied; `endpoints` are full client URLs
 * (`http://host:2379`, or `https://…` with TLS).
 */
export type ResolvedEtcdConfig = Readonly<Required<Omit<EtcdConfig, "tls" | "auth" | "client">>> & {
  /** TLS files; `{}` for the system's CAs; undefined when TLS is off. */
  readonly tls: EtcdTlsConfig | undefined;
  /** User and password, or undefined. */
  readonly auth: EtcdConfig["auth"];
  /** The shared `Etcd3` client, or undefined. */
  readonly client: unknown;
};

/** {@link ZooKeeperConfig} with every default applied. */
export type ResolvedZooKeeperConfig = Readonly<Required<ZooKeeperConfig>>;

/** A validated configuration, frozen. */
export type ResolvedConfig = ResolvedMemoryConfig | ResolvedEtcdConfig | ResolvedZooKeeperConfig;

/** Options of every elector, whatever the backend. */
export interface ElectorOptions {
  /**
   * The election's name: letters, digits and `._:-`, with `/` between parts; at most 200
   * characters.
   */
  readonly election: string;
  /**
   * This candidate's id, shown to others as the leader's id.
   * @defaultValue `<hostname>-<pid>-<random>`
   */
  readonly id?: string;
  /**
   * A pino-compatible logger; each elector logs through `logger.child({ election, id })`.
   * @defaultValue a silent logger
   */
  readonly logger?: Logger;
}

/** {@link ElectorOptions} with every default applied. */
export interface ResolvedElectorOptions {
  readonly election: string;
  readonly id: string;
  readonly logger: Logger | undefined;
}

// The keys each options object may have. `satisfies` makes the compiler refuse a list that
// misses a key of its type; an object key outside the list is refused at run time.

/** Every key of {@link MemoryConfig}. */
export const memoryConfigKeys = Object.freeze({
  backend: true,
  name: true,
  ttlMs: true,
  safetyMarginMs: true,
} as const satisfies Record<keyof MemoryConfig, true>);

/** Every key of {@link EtcdConfig}. */
export const etcdConfigKeys = Object.freeze({
  backend: true,
  endpoints: true,
  prefix: true,
  ttlSeconds: true,
  safetyMarginMs: true,
  tls: true,
  auth: true,
  client: true,
  requestTimeoutMs: true,
} as const satisfies Record<keyof EtcdConfig, true>);

/** Every key of {@link EtcdTlsConfig}. */
export const etcdTlsKeys = Object.freeze({
  caFile: true,
  certFile: true,
  keyFile: true,
} as const satisfies Record<keyof EtcdTlsConfig, true>);

/** Every key of {@link ZooKeeperConfig}. */
export const zooKeeperConfigKeys = Object.freeze({
  backend: true,
  servers: true,
  path: true,
  sessionTimeoutMs: true,
  safetyMarginMs: true,
} as const satisfies Record<keyof ZooKeeperConfig, true>);

/** Every key of {@link ElectorOptions}. */
export const electorOptionKeys = Object.freeze({
  election: true,
  id: true,
  logger: true,
} as const satisfies Record<keyof ElectorOptions, true>);
