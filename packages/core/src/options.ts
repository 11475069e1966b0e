import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { InvalidOptionError } from "./errors.js";
import type { Logger } from "./logger.js";

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
   * How much earlier than the TTL a leader steps down, in milliseconds, at most half the TTL.
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
   * How much earlier than the TTL a leader steps down, in milliseconds, at most half the TTL.
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
   * How much earlier than the session timeout a leader steps down, in milliseconds.
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

const schemes = ["memory", "etcd", "etcds", "zk"] as const;

/**
 * Parses a URL into an {@link ElectorConfig}: `memory://[name]`, `etcd://h1:2379,h2:2379/prefix`,
 * `etcds://` for TLS, `zk://h1:2181,h2:2181/path`, with settings as query parameters
 * (`ttl` or `ttlSeconds`, `ttlMs`, `sessionTimeoutMs`, `safetyMarginMs`, `requestTimeoutMs`,
 * `caFile`, `certFile`, `keyFile`). Several hosts make the URL unfit for `new URL()`, so it is
 * parsed here.
 *
 * @throws InvalidOptionError naming the part that is wrong; credentials are redacted.
 */
export function parseElectorUrl(url: string): ElectorConfig {
  if (typeof url !== "string") {
    throw new InvalidOptionError("url", url, "a string such as memory:// or etcd://host:2379");
  }
  // Credentials end at the last "@", whatever they contain, as redactUrl() assumes too.
  const trimmed = url.trim();
  const schemeMatch = /^([a-z][a-z0-9+.-]*):\/\//i.exec(trimmed);
  const afterScheme = schemeMatch === null ? "" : trimmed.slice(schemeMatch[0].length);
  const at = afterScheme.lastIndexOf("@");
  const userinfo = at === -1 ? undefined : afterScheme.slice(0, at);
  const match = /^([^/?#]*)([^?#]*)(?:\?([^#]*))?$/.exec(
    at === -1 ? afterScheme : afterScheme.slice(at + 1),
  );
  const scheme = schemeMatch?.[1]?.toLowerCase();
  if (match === null || !isScheme(scheme)) {
    throw new InvalidOptionError(
      "url",
      redactUrl(url),
      "a URL of the form memory://[name], etcd://host:2379[,host:2379][/prefix], etcds://… or zk://host:2181[,…][/path]",
    );
  }
  const hosts = (match[1] ?? "").split(",").filter(Boolean);
  const path = decode(match[2] ?? "", url);
  const query = new URLSearchParams(match[3] ?? "");
  const settings = new QueryReader(query, redactUrl(url));

  let config: ElectorConfig;
  if (scheme === "memory") {
    if (userinfo !== undefined || hosts.length > 1 || path.replace(/^\/$/, "") !== "") {
      throw new InvalidOptionError(
        "url",
        redactUrl(url),
        "memory://[name] with a single name and no path",
      );
    }
    config = {
      backend: "memory",
      ...optional("name", hosts[0] === undefined ? undefined : decode(hosts[0], url)),
      ...optional("ttlMs", settings.number("ttlMs")),
      ...optional("safetyMarginMs", settings.number("safetyMarginMs")),
    };
  } else if (scheme === "zk") {
    if (userinfo !== undefined) {
      throw new InvalidOptionError(
        "url",
        redactUrl(url),
        "zk://host:2181[,…][/path], without credentials",
      );
    }
    config = {
      backend: "zookeeper",
      servers: hosts,
      ...optional("path", path === "" || path === "/" ? undefined : path),
      ...optional("sessionTimeoutMs", settings.number("sessionTimeoutMs")),
      ...optional("safetyMarginMs", settings.number("safetyMarginMs")),
    };
  } else {
    const ttlShort = settings.number("ttl");
    const ttlLong = settings.number("ttlSeconds");
    if (ttlShort !== undefined && ttlLong !== undefined) {
      throw new InvalidOptionError("url", redactUrl(url), "a URL with ttl or ttlSeconds, not both");
    }
    const ttl = ttlShort ?? ttlLong;
    const caFile = settings.string("caFile");
    const certFile = settings.string("certFile");
    const keyFile = settings.string("keyFile");
    const tlsFiles = {
      ...optional("caFile", caFile),
      ...optional("certFile", certFile),
      ...optional("keyFile", keyFile),
    };
    if (scheme === "etcd" && Object.keys(tlsFiles).length > 0) {
      throw new InvalidOptionError(
        "url",
        redactUrl(url),
        "etcds://… when caFile, certFile or keyFile is given",
      );
    }
    config = {
      backend: "etcd",
      endpoints: hosts,
      ...optional("prefix", path === "" || path === "/" ? undefined : path.slice(1)),
      ...optional("ttlSeconds", ttl),
      ...optional("safetyMarginMs", settings.number("safetyMarginMs")),
      ...optional("requestTimeoutMs", settings.number("requestTimeoutMs")),
      ...optional("auth", parseUserinfo(userinfo, url)),
      ...(scheme === "etcds" ? { tls: Object.keys(tlsFiles).length > 0 ? tlsFiles : true } : {}),
    };
  }
  settings.rejectUnread();
  return config;
}

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
  const name = config.name ?? "default";
  if (typeof name !== "string" || name.length === 0 || name.length > 200) {
    throw new InvalidOptionError("name", name, "a non-empty string of at most 200 characters");
  }
  const ttlMs = integer("ttlMs", config.ttlMs ?? 10_000, 20, 3_600_000, "milliseconds");
  const safetyMarginMs = margin(config.safetyMarginMs, ttlMs, Math.floor(ttlMs / 10));
  return Object.freeze({ backend: "memory", name, ttlMs, safetyMarginMs });
}

function resolveEtcd(config: EtcdConfig): ResolvedEtcdConfig {
  const tls = config.tls === true ? {} : config.tls === false ? undefined : config.tls;
  if (tls !== undefined) {
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
  if (typeof prefix !== "string" || prefix.endsWith("/") || hasControlCharacter(prefix)) {
    throw new InvalidOptionError(
      "prefix",
      prefix,
      "a key prefix without a trailing / or control characters",
    );
  }
  const ttlSeconds = integer("ttlSeconds", config.ttlSeconds ?? 10, 2, 3600, "seconds");
  const safetyMarginMs = margin(
    config.safetyMarginMs,
    ttlSeconds * 1000,
    Math.max(500, ttlSeconds * 100),
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
  if (!Array.isArray(config.servers) || config.servers.length === 0) {
    throw new InvalidOptionError("servers", config.servers, "at least one host:port");
  }
  const servers = config.servers.map((server, index) =>
    hostPort(`servers[${index}]`, server, 2181),
  );
  const path = config.path ?? "/elector";
  if (typeof path !== "string" || !/^(\/[^/\0]+)+$/.test(path) || hasDotSegment(path)) {
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
  if (typeof id !== "string" || id.length === 0 || id.length > 200 || hasControlCharacter(id)) {
    throw new InvalidOptionError(
      "id",
      id,
      "a non-empty string of at most 200 printable characters",
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

/**
 * `url` with any password replaced, fit for messages and logs. Everything between `://` and
 * the last `@` counts as credentials, so a password with `@`, `/`, `?` or `#` in it is hidden
 * whole; an `@` in a query value must be written `%40`.
 */
export function redactUrl(url: unknown): string {
  if (typeof url !== "string") return String(url);
  const scheme = /^([a-z][a-z0-9+.-]*:\/\/)/i.exec(url)?.[1];
  if (scheme === undefined) return url.includes("@") ? "[redacted]" : url;
  const rest = url.slice(scheme.length);
  const at = rest.lastIndexOf("@");
  if (at === -1) return url;
  const colon = rest.indexOf(":");
  const user = colon === -1 || colon > at ? rest.slice(0, at) : rest.slice(0, colon);
  return `${scheme}${user}:[redacted]@${rest.slice(at + 1)}`;
}

function isScheme(scheme: string | undefined): scheme is (typeof schemes)[number] {
  return (schemes as readonly (string | undefined)[]).includes(scheme);
}

function parseUserinfo(userinfo: string | undefined, url: string) {
  if (userinfo === undefined) return undefined;
  const colon = userinfo.indexOf(":");
  const username = decode(colon === -1 ? userinfo : userinfo.slice(0, colon), url);
  const password = colon === -1 ? "" : decode(userinfo.slice(colon + 1), url);
  if (username === "") {
    throw new InvalidOptionError(
      "url",
      redactUrl(url),
      "user:password@ with a non-empty user, or no credentials",
    );
  }
  return { username, password };
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

function hostPort(option: string, value: unknown, defaultPort: number): string {
  if (typeof value !== "string") throw new InvalidOptionError(option, value, "a host:port string");
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(value);
  const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
  if (match === null || port < 1 || port > 65535) {
    throw new InvalidOptionError(option, value, "a host:port with a port from 1 to 65535");
  }
  return `${match[1]}:${port}`;
}

function integer(option: string, value: unknown, min: number, max: number, unit: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidOptionError(
      option,
      value,
      `an integer number of ${unit} from ${min} to ${max}`,
    );
  }
  return value;
}

function margin(value: unknown, ttlMs: number, fallback: number): number {
  const max = Math.floor(ttlMs / 2);
  return integer("safetyMarginMs", value ?? Math.min(fallback, max), 0, max, "milliseconds");
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Reads each query parameter once and refuses the ones nobody read. */
class QueryReader {
  readonly #query: URLSearchParams;
  readonly #url: string;
  readonly #read = new Set<string>();

  constructor(query: URLSearchParams, redactedUrl: string) {
    this.#query = query;
    this.#url = redactedUrl;
  }

  string(name: string): string | undefined {
    this.#read.add(name);
    return this.#query.get(name) ?? undefined;
  }

  number(name: string): number | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value)) {
      throw new InvalidOptionError(name, text, `a number (in ${this.#url})`);
    }
    return value;
  }

  rejectUnread(): void {
    for (const name of this.#query.keys()) {
      if (!this.#read.has(name)) {
        throw new InvalidOptionError(
          "url",
          this.#url,
          `a URL without the unknown setting ${JSON.stringify(name)}`,
        );
      }
    }
  }
}

function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) < 0x20) return true;
  }
  return false;
}

/** ZooKeeper refuses `.` and `..` path elements, and etcd keys with them confuse everyone. */
function hasDotSegment(path: string): boolean {
  return path.split("/").some((part) => part === "." || part === "..");
}

function decode(text: string, url: string): string {
  try {
    return decodeURIComponent(text);
  } catch (error) {
    throw new InvalidOptionError("url", redactUrl(url), "a URL whose %-escapes are valid UTF-8", {
      cause: error,
    });
  }
}
