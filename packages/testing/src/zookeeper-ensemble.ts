import {
  type ClusterNetwork,
  NetworkMembership,
  removeCluster,
  startCluster,
} from "./cluster-network.js";
import { TestingSetupError } from "./errors.js";
import { integerOption } from "./options.js";
import { ServerBuilder } from "./server-builder.js";
import { prepare, type StartedServer, startServer } from "./start-server.js";
import {
  defaultZooKeeperTiming,
  type ResolvedZooKeeperTiming,
  resolveZooKeeperTiming,
  StartedZooKeeperContainer,
  type ZooKeeperTiming,
  zooKeeperClientPort,
  zooKeeperEnvironment,
  zooKeeperFiles,
  zooKeeperProbe,
} from "./zookeeper-container.js";

/**
 * A ZooKeeper ensemble of three servers (or `withSize(n)`), configured the way the official
 * image is (`ZOO_MY_ID`, `ZOO_SERVERS`), whose quorum and election ports are on a private
 * Docker network and whose client ports are all published on the host.
 *
 * @example
 * ```ts
 * await using ensemble = await new ZooKeeperEnsemble().start();
 * const client = new ZooKeeper({ connect: ensemble.getConnectionString(), timeout: 5000 });
 * await (await ensemble.findLeader()).disconnect();
 * ```
 */
export class ZooKeeperEnsemble extends ServerBuilder<StartedZooKeeperEnsemble> {
  private size = 3;
  private timing: ResolvedZooKeeperTiming = defaultZooKeeperTiming;

  /**
   * @param image the image of every server; defaults to `ELECTOR_ZOOKEEPER_IMAGE`, else
   * `zookeeper:3.9.3`.
   * @throws TestingSetupError `invalid-image` when the image name is empty or malformed.
   */
  constructor(image?: string) {
    super("zookeeper", image);
  }

  /**
   * How many servers.
   *
   * @defaultValue 3
   * @throws TestingSetupError `invalid-option` unless an integer from 1 to 7.
   */
  withSize(size: number): this {
    this.size = integerOption("size", size, 1, 7);
    return this;
  }

  /** Tick time and limits of every server; see {@link ZooKeeperTiming}. */
  withTiming(timing: ZooKeeperTiming): this {
    this.timing = resolveZooKeeperTiming(timing);
    return this;
  }

  /**
   * Starts every server at once and waits until each serves (which takes a quorum). If one
   * fails, the others and the network are removed before the error is thrown.
   *
   * @throws TestingSetupError `docker-unavailable`, `image-missing` or `start-failed`.
   */
  override async start(): Promise<StartedZooKeeperEnsemble> {
    const client = await prepare(this.image);
    const ids = Array.from({ length: this.size }, (_, index) => index + 1);
    const servers = ids
      .map((id) => `server.${id}=zk-${id}:2888:3888;${zooKeeperClientPort}`)
      .join(" ");
    const { network, members } = await startCluster(
      client,
      "zookeeper",
      this.size,
      async (net, index) => {
        const myId = index + 1;
        const alias = `zk-${myId}`;
        const server = await startServer(
          {
            image: this.image,
            containerPort: zooKeeperClientPort,
            environment: {
              ...zooKeeperEnvironment(this.timing),
              ZOO_MY_ID: String(myId),
              ZOO_SERVERS: servers,
              ...this.environment,
            },
            contents: zooKeeperFiles,
            probe: zooKeeperProbe,
            startupTimeoutMs: this.startupTimeoutMs,
            what: `zookeeper server ${myId}`,
            network: { name: net.name, aliases: [alias] },
          },
          client,
        );
        return new StartedZooKeeperServer(server, this.timing, net, myId, alias);
      },
    );
    return new StartedZooKeeperEnsemble(network, members, this.timing);
  }
}

/** One server of a {@link StartedZooKeeperEnsemble}: a server that can also be partitioned. */
export class StartedZooKeeperServer extends StartedZooKeeperContainer {
  /** Its `myid` (`ZOO_MY_ID`), from 1. */
  readonly myId: number;
  private readonly membership: NetworkMembership;

  /** @internal Built by {@link ZooKeeperEnsemble.start}. */
  constructor(
    server: StartedServer,
    timing: ResolvedZooKeeperTiming,
    network: ClusterNetwork,
    myId: number,
    alias: string,
  ) {
    super(server, timing);
    this.myId = myId;
    this.membership = new NetworkMembership(network, this, [alias]);
  }

  /**
   * Cuts this server off from the other servers (it leaves the ensemble network); its
   * clients still reach it. Without a quorum it stops serving them within `syncLimit`
   * ticks, while a majority on the other side elects a leader and goes on.
   */
  disconnect(): Promise<void> {
    return this.membership.disconnect();
  }

  /** Puts this server back in reach of the others; it rejoins and serves again. */
  reconnect(): Promise<void> {
    return this.membership.reconnect();
  }
}

/** A running ZooKeeper ensemble: its servers, the connection string, and its removal. */
export class StartedZooKeeperEnsemble implements AsyncDisposable {
  /** `tickTime` of every server, in milliseconds. */
  readonly tickTimeMs: number;
  /** `initLimit` of every server, in ticks. */
  readonly initLimitTicks: number;
  /** `syncLimit` of every server, in ticks. */
  readonly syncLimitTicks: number;

  /** @internal Built by {@link ZooKeeperEnsemble.start}. */
  constructor(
    private readonly network: ClusterNetwork,
    /** One handle per server, in `myid` order. */
    readonly servers: readonly StartedZooKeeperServer[],
    timing: ResolvedZooKeeperTiming,
  ) {
    this.tickTimeMs = timing.tickTimeMs;
    this.initLimitTicks = timing.initLimitTicks;
    this.syncLimitTicks = timing.syncLimitTicks;
  }

  /** Every server as `host:port`, comma-separated, for a ZooKeeper client. */
  getConnectionString(): string {
    return this.servers.map((server) => server.getConnectionString()).join(",");
  }

  /** The name of the private network the servers talk on. */
  getNetworkName(): string {
    return this.network.name;
  }

  /**
   * The server that leads now, asking each with `srvr`.
   *
   * @throws TestingSetupError `probe-failed` when no answering server says it leads.
   */
  async findLeader(): Promise<StartedZooKeeperServer> {
    const modes = await Promise.allSettled(this.servers.map((server) => server.getMode()));
    const index = modes.findIndex((mode) => mode.status === "fulfilled" && mode.value === "leader");
    const leader = this.servers[index];
    if (leader === undefined) {
      throw new TestingSetupError(
        "probe-failed",
        "no zookeeper server reports that it is the leader",
      );
    }
    return leader;
  }

  /** Removes every server, with its data, and the network. Safe to call more than once. */
  async stop(): Promise<void> {
    await removeCluster(this.network, this.servers);
  }

  /** Same as {@link stop}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
