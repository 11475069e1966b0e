import { readFileSync } from "node:fs";
import {
  BackendError,
  ConnectionError,
  type EtcdConfig,
  InvalidOptionError,
  resolveConfig,
} from "@elector/core";
import type { ResolvedEtcdConfig } from "@elector/core/backend";
import { ExponentialBackoff, noop } from "cockatiel";
import { Etcd3, type IOptions, isRecoverableError } from "etcd3";

/**
 * Reconnect delays of the watch stream: from a few hundred milliseconds, growing with
 * decorrelated jitter to 1 s. The etcd3 default grows to 30 s, far longer than a lease.
 * etcd3 takes a backoff (it calls `next()` for the first delay, as its type says), not the
 * factory its own default passes.
 */
const watchBackoff = new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }).next();

/**
 * The options of an `Etcd3` client as an elector makes its own: every endpoint, TLS, user and
 * password, a deadline on each connection, no etcd3 circuit breaker (the elector retries with
 * p-retry), watch reconnects within a second, and gRPC keepalive pings. Use it to make a
 * client that many electors share.
 *
 * @throws InvalidOptionError when an option is wrong or a TLS file cannot be read.
 *
 * @example
 * ```ts
 * const client = new Etcd3(etcdClientOptions({ endpoints: ["10.0.0.1:2379", "10.0.0.2:2379"] }));
 * ```
 */
export function etcdClientOptions(config: Omit<EtcdConfig, "backend" | "client">): IOptions {
  const resolved = resolveConfig({ backend: "etcd", ...config }) as ResolvedEtcdConfig;
  return clientOptions(resolved);
}

/** {@link etcdClientOptions} of a resolved configuration. */
export function clientOptions(config: ResolvedEtcdConfig): IOptions {
  const options: IOptions = {
    hosts: [...config.endpoints],
    dialTimeout: config.requestTimeoutMs,
    // Each call runs once: the etcd3 defaults retry three times and open a circuit for five
    // seconds after three failures, which with one endpoint refuses every call for 5 s after
    // a short outage, longer than a 2 s lease. The elector retries itself, with p-retry.
    faultHandling: { host: () => noop, global: noop, watchBackoff },
    grpcOptions: {
      // Finds a silently dead connection (etcd refuses pings more often than every 5 s).
      "grpc.keepalive_time_ms": 10_000,
      "grpc.keepalive_timeout_ms": 10_000,
      // Reconnects to a member that came back within a second, not grpc's two minutes.
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 1_000,
    },
  };
  if (config.auth !== undefined) {
    options.auth = { username: config.auth.username, password: config.auth.password };
  }
  const tls = config.tls;
  if (tls?.caFile !== undefined || tls?.certFile !== undefined) {
    options.credentials = {
      // grpc takes null for "the system's CAs"; the etcd3 type does not say so.
      rootCertificate: (tls.caFile === undefined
        ? null
        : readPem("tls.caFile", tls.caFile)) as unknown as Buffer,
      ...(tls.keyFile === undefined ? {} : { privateKey: readPem("tls.keyFile", tls.keyFile) }),
      ...(tls.certFile === undefined ? {} : { certChain: readPem("tls.certFile", tls.certFile) }),
    };
  }
  return options;
}

/** An `Etcd3` client for `config`, with the settings {@link etcdClientOptions} describes. */
export function createEtcdClient(config: ResolvedEtcdConfig): Etcd3 {
  return new Etcd3(clientOptions(config));
}

function readPem(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new InvalidOptionError(option, path, "a readable PEM file", { cause: error });
  }
}

/** The gRPC options of one request: it gives up after `timeoutMs`. */
export function callOptions(timeoutMs: number): { deadline: Date } {
  return { deadline: new Date(Date.now() + timeoutMs) };
}

/** Whether an etcd3 error is worth trying again: the connection or the cluster, not us. */
export function isTransient(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  if ((error as { name?: unknown }).name === "BrokenCircuitError") return true;
  return isRecoverableError(error as Error);
}

/** Wraps an etcd3 error into the elector's errors, saying what was being done. */
export function backendError(operation: string, error: unknown): Error {
  const detail = error instanceof Error ? error.message : String(error);
  return isTransient(error)
    ? new ConnectionError(`${operation} failed: ${detail}`, { cause: error })
    : new BackendError(`${operation} failed: ${detail}`, { cause: error });
}
