import { randomUUID } from "node:crypto";
import { messageOf, TestingSetupError } from "./errors.js";
import { integerOption } from "./options.js";
import type { Probe } from "./readiness.js";
import { ServerBuilder } from "./server-builder.js";
import { type StartedServer, startServer } from "./start-server.js";
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
}): string[] {
  return [
    "/usr/local/bin/etcd",
    "--name",
    member.name,
    "--data-dir",
    "/etcd-data",
    "--listen-client-urls",
    `http://0.0.0.0:${etcdClientPort}`,
    "--advertise-client-urls",
    `http://${member.advertiseHost}:${etcdClientPort}`,
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
export const etcdProbe: Probe = async ({ host, port }, signal) => {
  const response = await fetch(`http://${host}:${port}/health`, { signal });
  const body = await response.text();
  let health: unknown;
  try {
    health = (JSON.parse(body) as { health?: unknown }).health;
  } catch {
    health = undefined;
  }
  if (health !== "true") throw new Error(`GET /health answered ${response.status} ${body.trim()}`);
};

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
   * Starts a one-member etcd and waits until `/health` answers.
   *
   * @throws TestingSetupError `docker-unavailable`, `image-missing` or `start-failed`.
   */
  override async start(): Promise<StartedEtcdContainer> {
    const server = await startServer({
      image: this.image,
      containerPort: etcdClientPort,
      command: etcdCommand({
        name: "etcd",
        advertiseHost: "127.0.0.1",
        initialCluster: `etcd=http://127.0.0.1:${etcdPeerPort}`,
        token: randomUUID(),
        timing: this.timing,
      }),
      environment: this.environment,
      probe: etcdProbe,
      startupTimeoutMs: this.startupTimeoutMs,
      what: "etcd",
    });
    return new StartedEtcdContainer(server, this.timing);
  }
}

/** A running etcd server: its endpoints, its log, and the faults of {@link StartedServerContainer}. */
export class StartedEtcdContainer extends StartedServerContainer {
  /** `--heartbeat-interval` in milliseconds, to derive time bounds from. */
  readonly heartbeatIntervalMs: number;
  /** `--election-timeout` in milliseconds, to derive time bounds from. */
  readonly electionTimeoutMs: number;

  /** @internal Built by {@link EtcdContainer.start} and {@link EtcdCluster.start}. */
  constructor(server: StartedServer, timing: ResolvedEtcdTiming) {
    super(server);
    this.heartbeatIntervalMs = timing.heartbeatIntervalMs;
    this.electionTimeoutMs = timing.electionTimeoutMs;
  }

  /** The host port of the client port; the same after {@link restart}. */
  getClientPort(): number {
    return this.getPublishedPort();
  }

  /** The client URL, for example `http://127.0.0.1:24379`. */
  getClientEndpoint(): string {
    return `http://${this.getHost()}:${this.getClientPort()}`;
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
      const response = await fetch(`${this.getClientEndpoint()}/v3/maintenance/status`, {
        method: "POST",
        body: "{}",
        signal: AbortSignal.timeout(options.timeoutMs ?? 2_000),
      });
      if (!response.ok) throw new Error(`status answered ${response.status}`);
      // uint64 fields arrive as decimal strings; compared as such.
      const status = (await response.json()) as {
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
