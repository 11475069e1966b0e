import { InvalidOptionError } from "../errors.js";
import type { ElectorConfig } from "./types.js";

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

function decode(text: string, url: string): string {
  try {
    return decodeURIComponent(text);
  } catch (error) {
    throw new InvalidOptionError("url", redactUrl(url), "a URL whose %-escapes are valid UTF-8", {
      cause: error,
    });
  }
}
