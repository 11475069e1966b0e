import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { ContainerRuntimeClient } from "testcontainers";
import { messageOf, TestingSetupError } from "./errors.js";
import {
  type EtcdTlsFiles,
  etcdHttp,
  etcdTlsDir,
  makeEtcdTlsFiles,
  removeEtcdTls,
} from "./etcd-tls.js";
import { integerOption } from "./options.js";
import type { Probe } from "./readiness.js";
import { ServerBuilder } from "./server-builder.js";
import { prepare, publishHost, type StartedServer, startServer } from "./start-server.js";
import { StartedServerContainer } from "./started-server-container.js";

/** etcd's client port inside the container. */
export const etcdClientPort = 2379;
/** etcd's peer port inside the container. */
export const etcdPeerPort = 2380;

/** Raft timing of an etcd server or cluster, in milliseconds. */
export interface EtcdTiming {
  /**
   * How often the leader sends heartbeats (`--heartbeat-interval`).
   *
   * @defaultValue 100
   */
  readonly heartbeatIntervalMs?: number;
  /**
   * How long a follower waits for a heartbeat before it campaigns (`--election-timeout`); at
   * least 5 heartbeat intervals. A cluster elects a new leader within a few of these.
   *
   * @defaultValue 1000
   */
  readonly electionTimeoutMs?: number;
}

/** {@link EtcdTiming} with the defaults applied. */
export interface ResolvedEtcdTiming {
  readonly heartbeatIntervalMs: number;
  readonly electionTimeoutMs: number;
}

/** etcd's own defaults, which already fail over within seconds. */
export const defaultEtcdTiming: ResolvedEtcdTiming = Object.freeze({
  heartbeatIntervalMs: 100,
  electionTimeoutMs: 1_000,
});

/** Applies defaults and checks the rule etcd enforces (election timeout ≥ 5 heartbeats). */
export function resolveEtcdTiming(timing: EtcdTiming): ResolvedEtcdTiming {
  const heartbeatIntervalMs = integerOption(
    "heartbeatIntervalMs",
    timing.heartbeatIntervalMs ?? defaultEtcdTiming.heartbeatIntervalMs,
    10,
    5_000,
  );
  const electionTimeoutMs = integerOption(
    "electionTimeoutMs",
    timing.electionTimeoutMs ?? defaultEtcdTiming.electionTimeoutMs,
    5 * heartbeatIntervalMs,
    50_000,
  );
  return Object.freeze({ heartbeatIntervalMs, electionTimeoutMs });
}

/** The command line of one etcd member; flags that etcd 3.4 and 3.5 both accept. */
export function etcdCommand(member: {
  readonly name: string;
  /** The host its peers (and advertised clients) reach it by. */
  readonly advertiseHost: string;
  readonly initialCluster: string;
  readonly token: string;
  readonly timing: ResolvedEtcdTiming;
  /** Serve clients over TLS with the certificate and key in {@link etcdTlsDir}. */
  readonly tls?: boolean;
}): string[] {
  const client = member.tls === true ? "https" : "http";
  return [
    "/usr/local/bin/etcd",
    "--name",
    member.name,
    "--data-dir",
    "/etcd-data",
    "--listen-client-urls",
    `${client}://0.0.0.0:${etcdClientPort}`,
    "--advertise-client-urls",
    `${client}://${member.advertiseHost}:${etcdClientPort}`,
    ...(member.tls === true
      ? ["--cert-file", `${etcdTlsDir}/server.pem`, "--key-file", `${etcdTlsDir}/server-key.pem`]
      : []),
    "--listen-peer-urls",
    `http://0.0.0.0:${etcdPeerPort}`,
    "--initial-advertise-peer-urls",
    `http://${member.advertiseHost}:${etcdPeerPort}`,
    "--initial-cluster",
    member.initialCluster,
    "--initial-cluster-state",
    "new",
    "--initial-cluster-token",
    member.token,
    "--heartbeat-interval",
    String(member.timing.heartbeatIntervalMs),
    "--election-timeout",
    String(member.timing.electionTimeoutMs),
    // JSON lines in both versions (3.4 defaults to capnslog).
    "--logger",
    "zap",
  ];
}

/**
 * Ready when `/health` says so: the server has a leader and a linearizable read went
 * through, so a cluster member is ready only within a quorum. Plain HTTP from the host, as
 * the official image has no shell to exec into.
 */
export const etcdProbe: Probe = etcdHealthProbe();

/** {@link etcdProbe}, over HTTPS trusting `ca` when one is given. */
function etcdHealthProbe(ca?: Buffer): Probe {
  return async ({ host, port }, signal) => {
    const scheme = ca === undefined ? "http" : "https";
    const response = await etcdHttp(`${scheme}://${host}:${port}/health`, { ca, signal });
    let health: unknown;
    try {
      health = (JSON.parse(response.body) as { health?: unknown }).health;
    } catch {
      health = undefined;
    }
    if (health !== "true") {
      throw new Error(`GET /health answered ${response.status} ${response.body.trim()}`);
    }
  };
}

/**
 * An etcd server for tests, like testcontainers' modules.
 *
 * @example
 * ```ts
 * await using etcd = await new EtcdContainer().start();
 * const client = new Etcd3({ hosts: etcd.getClientEndpoints() });
 * ```
 */
export class EtcdContainer extends ServerBuilder<StartedEtcdContainer> {
  private timing: ResolvedEtcdTiming = defaultEtcdTiming;
  private tls = false;

  /**
   * @param image the image to start; defaults to `ELECTOR_ETCD_IMAGE`, else
   * `quay.io/coreos/etcd:v3.5.21`.
   * @throws TestingSetupError `invalid-image` when the image name is empty or malformed.
   */
  constructor(image?: string) {
    super("etcd", image);
  }

  /** Raft timing; see {@link EtcdTiming}. */
  withTiming(timing: EtcdTiming): this {
    this.timing = resolveEtcdTiming(timing);
    return this;
  }

  /**
   * Serves clients over TLS only: `start()` makes a throwaway CA and a certificate for
   * `127.0.0.1`, `localhost` and {@link StartedServerContainer.getHost} with the host's
   * `openssl`, and the started server gives the
   * CA's path from {@link StartedEtcdContainer.getCaFile}. Clients need no certificate.
   *
   * The certificate and key are made on the host, copied into the container before it
   * starts, and removed with the server.
   *
   * @example
   * ```ts
   * await using etcd = await new EtcdContainer().withTls().start();
   * const url = `etcds://${etcd.getHost()}:${etcd.getClientPort()}?caFile=${encodeURIComponent(etcd.getCaFile())}`;
   * ```
   */
  withTls(): this {
    this.tls = true;
    return this;
  }

  /**
   * Starts a one-member etcd and waits until `/health` answers.
   *
   * @throws TestingSetupError `docker-unavailable`, `image-missing` or `start-failed` (also
   * when {@link withTls} is set and `openssl` is missing or fails).
   */
  override async start(): Promise<StartedEtcdContainer> {
    // Prepared first: the certificate must name the address that clients will dial.
    const client = await prepare(this.image);
    if (!this.tls) {
      return new StartedEtcdContainer(await this.startServer(client), this.timing);
    }
    const files = await makeEtcdTlsFiles(publishHost(client));
    try {
      const ca = await readFile(files.caFile);
      const server = await this.startServer(client, { ca, files: files.server });
      const tls = { caFile: files.caFile, ca, remove: () => removeEtcdTls(files) };
      return new StartedEtcdContainer(server, this.timing, tls);
    } catch (error) {
      await removeEtcdTls(files);
      throw error;
    }
  }

  private startServer(
    client: ContainerRuntimeClient,
    tls?: { readonly ca: Buffer; readonly files: EtcdTlsFiles["server"] },
  ): Promise<StartedServer> {
    const ca = tls?.ca;
    return startServer(
      {
        image: this.image,
        containerPort: etcdClientPort,
        command: etcdCommand({
          name: "etcd",
          // Inside the container: a lone member's peer URL, matched by the initial cluster.
          advertiseHost: "127.0.0.1",
          initialCluster: `etcd=http://127.0.0.1:${etcdPeerPort}`,
          token: randomUUID(),
          timing: this.timing,
          tls: ca !== undefined,
        }),
        environment: this.environment,
        probe: ca === undefined ? etcdProbe : etcdHealthProbe(ca),
        startupTimeoutMs: this.startupTimeoutMs,
        what: ca === undefined ? "etcd" : "etcd (TLS)",
        ...(tls === undefined ? {} : { files: tls.files }),
      },
      client,
    );
  }
}

/** What a server started with {@link EtcdContainer.withTls} carries. */
interface EtcdTls {
  readonly caFile: string;
  readonly ca: Buffer;
  /** Removes the CA files and the image with the certificate. */
  readonly remove: () => Promise<void>;
}

/** A running etcd server: its endpoints, its log, and the faults of {@link StartedServerContainer}. */
export class StartedEtcdContainer extends StartedServerContainer {
  /** `--heartbeat-interval` in milliseconds, to derive time bounds from. */
  readonly heartbeatIntervalMs: number;
  /** `--election-timeout` in milliseconds, to derive time bounds from. */
  readonly electionTimeoutMs: number;

  private readonly tls: EtcdTls | undefined;
  private tlsRemoval: Promise<void> | undefined;

  /** @internal Built by {@link EtcdContainer.start} and {@link EtcdCluster.start}. */
  constructor(server: StartedServer, timing: ResolvedEtcdTiming, tls?: EtcdTls) {
    super(server);
    this.heartbeatIntervalMs = timing.heartbeatIntervalMs;
    this.electionTimeoutMs = timing.electionTimeoutMs;
    this.tls = tls;
  }

  /**
   * The path on the host of the CA certificate (PEM) that signed the server's certificate;
   * removed by {@link remove}.
   *
   * @throws TestingSetupError `invalid-option` unless started with {@link EtcdContainer.withTls}.
   */
  getCaFile(): string {
    if (this.tls === undefined) {
      throw new TestingSetupError(
        "invalid-option",
        `${this.description} serves plain HTTP and has no CA file; start it with new EtcdContainer().withTls()`,
      );
    }
    return this.tls.caFile;
  }

  /** Removes the container and its data, and with TLS the CA files and the image. */
  override async remove(): Promise<void> {
    await super.remove();
    if (this.tls !== undefined) this.tlsRemoval ??= this.tls.remove();
    await this.tlsRemoval;
  }

  /** The host port of the client port; the same after {@link restart}. */
  getClientPort(): number {
    return this.getPublishedPort();
  }

  /** The client URL, for example `http://127.0.0.1:24379`, or `https://…` with TLS. */
  getClientEndpoint(): string {
    const scheme = this.tls === undefined ? "http" : "https";
    return `${scheme}://${this.getHost()}:${this.getClientPort()}`;
  }

  /** {@link getClientEndpoint} as a list, the shape etcd clients take. */
  getClientEndpoints(): string[] {
    return [this.getClientEndpoint()];
  }

  /**
   * Whether this server is the Raft leader now, as its own status says.
   *
   * @throws TestingSetupError `probe-failed` when it does not answer.
   */
  async isLeader(options: { readonly timeoutMs?: number } = {}): Promise<boolean> {
    try {
      const response = await etcdHttp(`${this.getClientEndpoint()}/v3/maintenance/status`, {
        method: "POST",
        body: "{}",
        ca: this.tls?.ca,
        signal: AbortSignal.timeout(options.timeoutMs ?? 2_000),
      });
      if (response.status !== 200) throw new Error(`status answered ${response.status}`);
      // uint64 fields arrive as decimal strings; compared as such.
      const status = JSON.parse(response.body) as {
        header?: { member_id?: string };
        leader?: string;
      };
      return status.leader !== undefined && status.leader === status.header?.member_id;
    } catch (error) {
      throw new TestingSetupError(
        "probe-failed",
        `${this.description} did not report its status: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }
}
