import { randomUUID } from "node:crypto";
import {
  type ClusterNetwork,
  NetworkMembership,
  removeCluster,
  startCluster,
} from "./cluster-network.js";
import { TestingSetupError } from "./errors.js";
import {
  defaultEtcdTiming,
  type EtcdTiming,
  etcdClientPort,
  etcdCommand,
  etcdPeerPort,
  etcdProbe,
  type ResolvedEtcdTiming,
  resolveEtcdTiming,
  StartedEtcdContainer,
} from "./etcd-container.js";
import { integerOption } from "./options.js";
import { ServerBuilder } from "./server-builder.js";
import { prepare, type StartedServer, startServer } from "./start-server.js";

/**
 * An etcd cluster of three members (or `withSize(n)`), whose peers talk on a private
 * Docker network and whose client ports are all published on the host.
 *
 * @example
 * ```ts
 * await using cluster = await new EtcdCluster().start();
 * const client = new Etcd3({ hosts: cluster.getClientEndpoints() });
 * await cluster.members[0].stop();
 * ```
 */
export class EtcdCluster extends ServerBuilder<StartedEtcdCluster> {
  private size = 3;
  private timing: ResolvedEtcdTiming = defaultEtcdTiming;

  /**
   * @param image the image of every member; defaults to `ELECTOR_ETCD_IMAGE`, else
   * `quay.io/coreos/etcd:v3.5.21`.
   * @throws TestingSetupError `invalid-image` when the image name is empty or malformed.
   */
  constructor(image?: string) {
    super("etcd", image);
  }

  /**
   * How many members.
   *
   * @defaultValue 3
   * @throws TestingSetupError `invalid-option` unless an integer from 1 to 7.
   */
  withSize(size: number): this {
    this.size = integerOption("size", size, 1, 7);
    return this;
  }

  /** Raft timing of every member; see {@link EtcdTiming}. */
  withTiming(timing: EtcdTiming): this {
    this.timing = resolveEtcdTiming(timing);
    return this;
  }

  /**
   * Starts every member at once (each waits for a quorum) and waits until all answer.
   * If one fails, the others and the network are removed before the error is thrown.
   *
   * @throws TestingSetupError `docker-unavailable`, `image-missing` or `start-failed`.
   */
  override async start(): Promise<StartedEtcdCluster> {
    const client = await prepare(this.image);
    const names = Array.from({ length: this.size }, (_, index) => `etcd-${index + 1}`);
    const initialCluster = names.map((name) => `${name}=http://${name}:${etcdPeerPort}`).join(",");
    const token = randomUUID();
    const { network, members } = await startCluster(
      client,
      "etcd",
      this.size,
      async (net, index) => {
        const name = names[index] ?? `etcd-${index + 1}`;
        const server = await startServer(
          {
            image: this.image,
            containerPort: etcdClientPort,
            command: etcdCommand({
              name,
              advertiseHost: name,
              initialCluster,
              token,
              timing: this.timing,
            }),
            environment: this.environment,
            probe: etcdProbe,
            startupTimeoutMs: this.startupTimeoutMs,
            what: `etcd member ${name}`,
            network: { name: net.name, aliases: [name] },
          },
          client,
        );
        return new StartedEtcdMember(server, this.timing, net, name);
      },
    );
    return new StartedEtcdCluster(network, members, this.timing);
  }
}

/** One member of a {@link StartedEtcdCluster}: a server that can also be partitioned. */
export class StartedEtcdMember extends StartedEtcdContainer {
  /** The member's name (`--name`), also its host name on the cluster network. */
  readonly memberName: string;
  private readonly membership: NetworkMembership;

  /** @internal Built by {@link EtcdCluster.start}. */
  constructor(
    server: StartedServer,
    timing: ResolvedEtcdTiming,
    network: ClusterNetwork,
    name: string,
  ) {
    super(server, timing);
    this.memberName = name;
    this.membership = new NetworkMembership(network, this, [name]);
  }

  /**
   * Cuts this member off from its peers (it leaves the cluster network); its clients still
   * reach it. A minority member then fails linearizable requests, and a leader steps down.
   */
  disconnect(): Promise<void> {
    return this.membership.disconnect();
  }

  /** Puts this member back in reach of its peers. It catches up on its own. */
  reconnect(): Promise<void> {
    return this.membership.reconnect();
  }
}

/** A running etcd cluster: its members, their endpoints, and its removal. */
export class StartedEtcdCluster implements AsyncDisposable {
  /** `--heartbeat-interval` of every member, in milliseconds. */
  readonly heartbeatIntervalMs: number;
  /** `--election-timeout` of every member, in milliseconds. */
  readonly electionTimeoutMs: number;

  /** @internal Built by {@link EtcdCluster.start}. */
  constructor(
    private readonly network: ClusterNetwork,
    /** One handle per member, in name order (`etcd-1` first). */
    readonly members: readonly StartedEtcdMember[],
    timing: ResolvedEtcdTiming,
  ) {
    this.heartbeatIntervalMs = timing.heartbeatIntervalMs;
    this.electionTimeoutMs = timing.electionTimeoutMs;
  }

  /** Every member's client URL, in member order; the same after restarts. */
  getClientEndpoints(): string[] {
    return this.members.map((member) => member.getClientEndpoint());
  }

  /** The name of the private network the members talk on. */
  getNetworkName(): string {
    return this.network.name;
  }

  /**
   * The member that is leader now, asking each member that answers.
   *
   * @throws TestingSetupError `probe-failed` when no answering member says it leads.
   */
  async findLeader(): Promise<StartedEtcdMember> {
    const answers = await Promise.allSettled(this.members.map((member) => member.isLeader()));
    const index = answers.findIndex((answer) => answer.status === "fulfilled" && answer.value);
    const leader = this.members[index];
    if (leader === undefined) {
      throw new TestingSetupError("probe-failed", "no etcd member reports that it is the leader");
    }
    return leader;
  }

  /** Removes every member, with its data, and the network. Safe to call more than once. */
  async stop(): Promise<void> {
    await removeCluster(this.network, this.members);
  }

  /** Same as {@link stop}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
