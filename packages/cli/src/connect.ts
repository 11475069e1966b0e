import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import {
  createElector,
  type Elector,
  type ElectorConfig,
  type ElectorError,
  isElectorError,
  isInvalidOptionError,
  isRetryableError,
  type Logger,
  parseElectorUrl,
  redactUrl,
  resolveConfig,
} from "@elector/core";
import type { TargetArguments } from "./arguments.js";
import { CliError, messageOf, usageError } from "./cli-error.js";
import type { CliIo } from "./io.js";

/** What {@link openElector} needs besides the shared flags. */
export interface OpenOptions extends TargetArguments {
  /** The command, for messages. */
  readonly command: string;
  readonly id?: string;
  /** `--ttl` in milliseconds: etcd's lease TTL, ZooKeeper's session timeout, memory's TTL. */
  readonly ttlMs?: number;
  /** The elector's logger. @defaultValue silent */
  readonly logger?: Logger;
}

/**
 * Builds the backend configuration from `--url` and `--ttl`, and validates it.
 *
 * @throws CliError (usage) when the URL is malformed, or `--ttl` conflicts with the URL or
 * does not fit the backend.
 */
export function configFromArguments(options: OpenOptions): ElectorConfig {
  const config = withTtl(options);
  try {
    resolveConfig(config);
  } catch (error) {
    throw asOptionError(options, error);
  }
  return config;
}

function withTtl(options: OpenOptions): ElectorConfig {
  let config: ElectorConfig;
  try {
    config = parseElectorUrl(options.url);
  } catch (error) {
    throw usageError(options.command, `invalid --url: ${messageOf(error)}`, error);
  }
  const ttlMs = options.ttlMs;
  if (ttlMs === undefined) return config;
  switch (config.backend) {
    case "etcd":
      if (config.ttlSeconds !== undefined) throw ttlTwice(options);
      if (ttlMs % 1_000 !== 0) {
        throw usageError(
          options.command,
          `--ttl must be a whole number of seconds on etcd (leases count in seconds), got ${ttlMs / 1_000}s`,
        );
      }
      return { ...config, ttlSeconds: ttlMs / 1_000 };
    case "zookeeper":
      if (config.sessionTimeoutMs !== undefined) throw ttlTwice(options);
      return { ...config, sessionTimeoutMs: ttlMs };
    case "memory":
      if (config.ttlMs !== undefined) throw ttlTwice(options);
      return { ...config, ttlMs };
  }
}

function ttlTwice(options: OpenOptions): CliError {
  return usageError(
    options.command,
    `--ttl and the URL ${redactUrl(options.url)} both set the TTL; give it once`,
  );
}

/** Where the configuration points, for messages: `etcd at 127.0.0.1:2379`. */
export function describeTarget(config: ElectorConfig): string {
  const resolved = resolveConfig(config);
  switch (resolved.backend) {
    case "etcd":
      return `etcd at ${resolved.endpoints.map((endpoint) => endpoint.replace(/^https?:\/\//, "")).join(",")}`;
    case "zookeeper":
      return `ZooKeeper at ${resolved.servers.join(",")}`;
    case "memory":
      return `memory://${resolved.name}`;
  }
}

/**
 * Creates the elector and proves the server answers (a `leader()` read) within
 * `connectTimeoutMs`, so that a server that cannot be reached is one clear error rather than
 * a wait without end.
 *
 * @throws CliError exit code 2 for a bad URL or option, 1 for a backend that is not
 * installed or a server that does not answer in time.
 */
export async function openElector(options: OpenOptions, io: CliIo): Promise<Elector> {
  const config = configFromArguments(options);
  const where = describeTarget(config);
  const create = io.createElector ?? createElector;
  const deadline = AbortSignal.timeout(options.connectTimeoutMs);
  const pending = create(config, {
    election: options.election,
    ...(options.id === undefined ? {} : { id: options.id }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  let elector: Elector | undefined;
  /** The last failure of a probe that was worth trying again, for the message. */
  let last: unknown;
  try {
    elector = await untilAborted(pending, deadline);
    // A backend gives up on one read after its own request timeout (etcd: 5 s): the probe
    // tries again, so that it is --connect-timeout that bounds the wait, whatever its length.
    for (;;) {
      try {
        await elector.leader({ signal: deadline });
        return elector;
      } catch (error) {
        if (deadline.aborted || !isRetryableError(error)) throw error;
        last = error;
        await sleep(probePauseMs, undefined, { signal: deadline });
      }
    }
  } catch (error) {
    // An elector that connects after we gave up must not keep the process alive.
    if (elector === undefined) void pending.then((late) => late.close()).catch(() => {});
    else void elector.close().catch(() => {});
    if (isInvalidOptionError(error)) throw asOptionError(options, error);
    if (isElectorError(error) && error.code === "backend-not-installed") {
      throw notInstalled(config.backend, error);
    }
    const why = deadline.aborted
      ? `no answer within ${options.connectTimeoutMs / 1_000}s (--connect-timeout)${
          last === undefined ? "" : `; last error: ${describeFailure(last)}`
        }`
      : describeFailure(error);
    throw new CliError(`cannot reach ${where}: ${why}`, { cause: error });
  }
}

/**
 * The error for a backend package that is not installed, with the command that installs it
 * where this CLI is: `npm install -g` beside a global elector, whose `require` never looks in
 * a project's node_modules.
 */
function notInstalled(backend: string, error: ElectorError): CliError {
  const packageName = (error as { packageName?: unknown }).packageName;
  const name = typeof packageName === "string" ? packageName : `@elector/${backend}`;
  return new CliError(`the ${backend} backend needs the package ${name}: ${installHint(name)}`, {
    cause: error,
  });
}

/**
 * How to install `packageName` so that this CLI finds it.
 *
 * @param cliPath where this CLI's code lives; npm's global installs live under
 * `<prefix>/lib/node_modules`.
 */
export function installHint(packageName: string, cliPath = fileURLToPath(import.meta.url)): string {
  const global = /[\\/]lib[\\/]node_modules[\\/]@elector[\\/]cli[\\/]/.test(cliPath);
  return global
    ? `install it beside the global elector: npm install -g ${packageName}`
    : `install it: npm install ${packageName} (npm install -g ${packageName} if elector was installed with -g)`;
}

/** Between two probes of a server that did not answer. */
const probePauseMs = 200;

/** What a socket error code means, in the words of a message. */
const socketErrors: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
};

/**
 * A failure in words a user can act on: the socket error, when there is one, else the
 * innermost message without gRPC's status prefix and trailer. Never the operation that the
 * probe used (a `leader()` read), which is no concern of the command that failed.
 */
export function describeFailure(error: unknown): string {
  const messages: string[] = [];
  for (let cause = error, depth = 0; cause !== undefined && depth < 8; depth++) {
    messages.push(messageOf(cause));
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  for (const message of messages) {
    const code = /\b(E[A-Z_]+)\b/.exec(message)?.[1];
    const meaning = code === undefined ? undefined : socketErrors[code];
    if (meaning !== undefined) return `${meaning} (${code})`;
  }
  const innermost = messages.at(-1) ?? "";
  return (
    innermost
      // "14 UNAVAILABLE: …": the gRPC status, which says nothing more than the text after it.
      .replace(/^\d+ [A-Z_]+: /, "")
      .replace(/\.? ?Resolution note: ?$/, "")
      .trim() || messageOf(error)
  );
}

/**
 * Runs one read of a command, bounded like the connection: a server that stops answering
 * after the connection came up is the same clear error.
 *
 * @throws CliError exit code 1 naming the server, when the read fails or takes too long.
 */
export async function readWithin<T>(
  options: OpenOptions,
  read: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const deadline = AbortSignal.timeout(options.connectTimeoutMs);
  try {
    return await read(deadline);
  } catch (error) {
    const why = deadline.aborted
      ? `no answer within ${options.connectTimeoutMs / 1_000}s (--connect-timeout)`
      : describeFailure(error);
    throw new CliError(`cannot read from ${describeTarget(configFromArguments(options))}: ${why}`, {
      cause: error,
    });
  }
}

function asOptionError(options: OpenOptions, error: unknown): CliError {
  const option = isInvalidOptionError(error) ? error.option : "";
  const flag =
    option === "election" || option === "id"
      ? `--${option}`
      : ["ttlSeconds", "ttlMs", "sessionTimeoutMs"].includes(option) && options.ttlMs !== undefined
        ? "--ttl"
        : "--url";
  return usageError(options.command, `invalid ${flag}: ${messageOf(error)}`, error);
}

/** `promise`, or a rejection with the signal's reason once it aborts, whichever comes first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    if (signal.aborted) return abort();
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}
