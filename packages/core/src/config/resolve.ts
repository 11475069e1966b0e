import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { InvalidOptionError } from "../errors.js";
import {
  type ElectorConfig,
  type ElectorOptions,
  type EtcdConfig,
  electorOptionKeys,
  etcdConfigKeys,
  etcdTlsKeys,
  type MemoryConfig,
  memoryConfigKeys,
  type ResolvedConfig,
  type ResolvedElectorOptions,
  type ResolvedEtcdConfig,
  type ResolvedMemoryConfig,
  type ResolvedZooKeeperConfig,
  type ZooKeeperConfig,
  zooKeeperConfigKeys,
} from "./types.js";
import { parseElectorUrl } from "./url.js";
import {
  hasControlCharacter,
  hasDotSegment,
  hostPort,
  integer,
  isWellFormed,
  margin,
  marginFloor,
  rejectUnknownKeys,
} from "./validate.js";

/**
 * The least safety margin on a backend with a server of its own, in milliseconds: the time
 * from a check to the start of the side effect it guards on a loaded machine. 1% of the TTL
 * is added when more, for a server clock that runs fast (see docs/safety.md).
 */
const networkMarginFloorMs = 100;

/**
 * Validates a configuration, given as a URL or an object, and applies its defaults.
 *
 * @throws InvalidOptionError naming the first option that is wrong.
 */
export function resolveConfig(target: string | ElectorConfig): ResolvedConfig {
  const config = typeof target === "string" ? parseElectorUrl(target) : target;
  if (typeof config !== "object" || config === null) {
    throw new InvalidOptionError("config", config, "a URL string or an object with a backend");
  }
  switch (config.backend) {
    case "memory":
      return resolveMemory(config);
    case "etcd":
      return resolveEtcd(config);
    case "zookeeper":
      return resolveZooKeeper(config);
    default:
      throw new InvalidOptionError(
        "backend",
        (config as { backend?: unknown }).backend,
        'one of "memory", "etcd" or "zookeeper"',
      );
  }
}

function resolveMemory(config: MemoryConfig): ResolvedMemoryConfig {
  rejectUnknownKeys(config, memoryConfigKeys, "the memory backend's options");
  const name = config.name ?? "default";
  if (typeof name !== "string" || name.length === 0 || name.length > 200 || !isWellFormed(name)) {
    throw new InvalidOptionError(
      "name",
      name,
      "a non-empty string of well-formed Unicode, at most 200 characters",
    );
  }
  const ttlMs = integer("ttlMs", config.ttlMs ?? 10_000, 20, 3_600_000, "milliseconds");
  // One process, one clock: no clock-rate gap, so only the proportional part of the floor.
  const safetyMarginMs = margin(
    config.safetyMarginMs,
    ttlMs,
    Math.floor(ttlMs / 10),
    marginFloor(ttlMs, 1),
  );
  return Object.freeze({ backend: "memory", name, ttlMs, safetyMarginMs });
}

function resolveEtcd(config: EtcdConfig): ResolvedEtcdConfig {
  rejectUnknownKeys(config, etcdConfigKeys, "the etcd backend's options");
  const tls = config.tls === true ? {} : config.tls === false ? undefined : config.tls;
  if (tls !== undefined) {
    if (typeof tls !== "object" || tls === null || Array.isArray(tls)) {
      throw new InvalidOptionError("tls", tls, "true, false, or { caFile, certFile, keyFile }");
    }
    rejectUnknownKeys(tls, etcdTlsKeys, "the etcd backend's TLS options");
    for (const key of ["caFile", "certFile", "keyFile"] as const) {
      const value = tls[key];
      if (value !== undefined && (typeof value !== "string" || value === "")) {
        throw new InvalidOptionError(`tls.${key}`, value, "the path of a PEM file");
      }
    }
    if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
      throw new InvalidOptionError(
        "tls",
        "[certFile without keyFile]",
        "certFile and keyFile together, or neither",
      );
    }
  }
  if (config.endpoints !== undefined && !Array.isArray(config.endpoints)) {
    throw new InvalidOptionError(
      "endpoints",
      config.endpoints,
      "an array of host:port or URL strings",
    );
  }
  const endpoints = (config.endpoints ?? []).map((endpoint, index) =>
    etcdEndpoint(endpoint, index, tls !== undefined),
  );
  if (endpoints.length === 0 && config.client === undefined) {
    throw new InvalidOptionError(
      "endpoints",
      config.endpoints,
      "at least one host:port, or a client to share",
    );
  }
  const prefix = config.prefix ?? "";
  if (
    typeof prefix !== "string" ||
    prefix.endsWith("/") ||
    hasControlCharacter(prefix) ||
    !isWellFormed(prefix)
  ) {
    throw new InvalidOptionError(
      "prefix",
      prefix,
      "a key prefix of well-formed Unicode without a trailing / or control characters",
    );
  }
  const ttlSeconds = integer("ttlSeconds", config.ttlSeconds ?? 10, 2, 3600, "seconds");
  const safetyMarginMs = margin(
    config.safetyMarginMs,
    ttlSeconds * 1000,
    Math.max(500, ttlSeconds * 100),
    marginFloor(ttlSeconds * 1000, networkMarginFloorMs),
  );
  const auth = config.auth;
  if (
    auth !== undefined &&
    (typeof auth.username !== "string" || auth.username === "" || typeof auth.password !== "string")
  ) {
    throw new InvalidOptionError(
      "auth",
      "[redacted]",
      "{ username, password } with a non-empty username",
    );
  }
  const requestTimeoutMs = integer(
    "requestTimeoutMs",
    config.requestTimeoutMs ?? 5000,
    100,
    600_000,
    "milliseconds",
  );
  return Object.freeze({
    backend: "etcd",
    endpoints: Object.freeze(endpoints),
    prefix,
    ttlSeconds,
    safetyMarginMs,
    tls: tls === undefined ? undefined : Object.freeze({ ...tls }),
    auth:
      auth === undefined
        ? undefined
        : Object.freeze({ username: auth.username, password: auth.password }),
    client: config.client,
    requestTimeoutMs,
  });
}

function resolveZooKeeper(config: ZooKeeperConfig): ResolvedZooKeeperConfig {
  rejectUnknownKeys(config, zooKeeperConfigKeys, "the ZooKeeper backend's options");
  if (!Array.isArray(config.servers) || config.servers.length === 0) {
    throw new InvalidOptionError("servers", config.servers, "at least one host:port");
  }
  const servers = config.servers.map((server, index) =>
    hostPort(`servers[${index}]`, server, 2181),
  );
  const path = config.path ?? "/elector";
  if (
    typeof path !== "string" ||
    !/^(\/[^/\0]+)+$/.test(path) ||
    hasDotSegment(path) ||
    !isWellFormed(path)
  ) {
    throw new InvalidOptionError(
      "path",
      path,
      'an absolute znode path such as "/elector", without a trailing /',
    );
  }
  const sessionTimeoutMs = integer(
    "sessionTimeoutMs",
    config.sessionTimeoutMs ?? 10_000,
    1000,
    600_000,
    "milliseconds",
  );
  const safetyMarginMs = margin(
    config.safetyMarginMs,
    sessionTimeoutMs,
    Math.max(500, Math.floor(sessionTimeoutMs / 10)),
    marginFloor(sessionTimeoutMs, networkMarginFloorMs),
  );
  return Object.freeze({
    backend: "zookeeper",
    servers: Object.freeze(servers),
    path,
    sessionTimeoutMs,
    safetyMarginMs,
  });
}

/**
 * Validates the options every elector takes and applies their defaults.
 *
 * @throws InvalidOptionError naming the option that is wrong.
 */
export function resolveElectorOptions(options: ElectorOptions): ResolvedElectorOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionError("options", options, "an object with at least { election }");
  }
  rejectUnknownKeys(options, electorOptionKeys, "the elector's options");
  const { election } = options;
  if (
    typeof election !== "string" ||
    election.length > 200 ||
    !/^[A-Za-z0-9._:-]+(\/[A-Za-z0-9._:-]+)*$/.test(election) ||
    hasDotSegment(election)
  ) {
    throw new InvalidOptionError(
      "election",
      election,
      "a name of letters, digits and ._:- with / between parts (none of them . or ..), at most 200 characters",
    );
  }
  const id = options.id ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  if (
    typeof id !== "string" ||
    id.length === 0 ||
    id.length > 200 ||
    hasControlCharacter(id) ||
    !isWellFormed(id)
  ) {
    throw new InvalidOptionError(
      "id",
      id,
      "a non-empty string of at most 200 printable characters of well-formed Unicode",
    );
  }
  const logger = options.logger;
  if (
    logger !== undefined &&
    (typeof logger !== "object" || logger === null || typeof logger.child !== "function")
  ) {
    throw new InvalidOptionError(
      "logger",
      logger,
      "a pino-compatible logger with debug, info, warn, error and child",
    );
  }
  return Object.freeze({ election, id, logger });
}

/** A configuration safe to log: no password, no client object. */
export function describeConfig(config: ResolvedConfig): Record<string, unknown> {
  switch (config.backend) {
    case "memory":
      return { ...config };
    case "zookeeper":
      return { ...config, servers: [...config.servers] };
    case "etcd":
      return {
        backend: config.backend,
        endpoints: [...config.endpoints],
        prefix: config.prefix,
        ttlSeconds: config.ttlSeconds,
        safetyMarginMs: config.safetyMarginMs,
        tls: config.tls !== undefined,
        auth:
          config.auth === undefined
            ? undefined
            : { username: config.auth.username, password: "[redacted]" },
        sharedClient: config.client !== undefined,
      };
  }
}

function etcdEndpoint(endpoint: unknown, index: number, tls: boolean): string {
  const option = `endpoints[${index}]`;
  if (typeof endpoint !== "string")
    throw new InvalidOptionError(option, endpoint, "a host:port or URL string");
  if (endpoint.includes("@")) {
    throw new InvalidOptionError(
      option,
      "[redacted]",
      "a host:port or URL without credentials (use auth)",
    );
  }
  const scheme = /^(https?):\/\//i.exec(endpoint)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if ((scheme === "https") !== tls) {
      throw new InvalidOptionError(
        option,
        endpoint,
        tls ? "an https:// URL when TLS is on" : "an http:// URL when TLS is off",
      );
    }
    const rest = endpoint.slice(scheme.length + 3).replace(/\/$/, "");
    return `${scheme}://${hostPort(option, rest, 2379)}`;
  }
  return `${tls ? "https" : "http"}://${hostPort(option, endpoint, 2379)}`;
}
