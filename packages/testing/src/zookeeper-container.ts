import { messageOf, TestingSetupError } from "./errors.js";
import { sendFourLetterWord } from "./four-letter-word.js";
import { integerOption } from "./options.js";
import type { Probe } from "./readiness.js";
import { ServerBuilder } from "./server-builder.js";
import { type StartedServer, startServer } from "./start-server.js";
import { StartedServerContainer } from "./started-server-container.js";

/** ZooKeeper's client port inside the container. */
export const zooKeeperClientPort = 2181;

/** ZooKeeper's timing, in the units of zoo.cfg. */
export interface ZooKeeperTiming {
  /**
   * The basic time unit (`tickTime`). Sessions may last from 2 to 120 ticks.
   *
   * @defaultValue 500
   */
  readonly tickTimeMs?: number;
  /**
   * Ticks a follower has to connect and sync to a new leader (`initLimit`).
   *
   * @defaultValue 10
   */
  readonly initLimitTicks?: number;
  /**
   * Ticks a follower may fall behind before the leader drops it, and a follower waits for
   * the leader before it gives up on it (`syncLimit`): the partition detection time.
   *
   * @defaultValue 4
   */
  readonly syncLimitTicks?: number;
}

/** {@link ZooKeeperTiming} with the defaults applied. */
export interface ResolvedZooKeeperTiming {
  readonly tickTimeMs: number;
  readonly initLimitTicks: number;
  readonly syncLimitTicks: number;
}

/**
 * Shorter than the official image's (2000 ms ticks, syncLimit 2), so that a partitioned
 * server stops serving within 2 s and tests that wait for it stay short.
 */
export const defaultZooKeeperTiming: ResolvedZooKeeperTiming = Object.freeze({
  tickTimeMs: 500,
  initLimitTicks: 10,
  syncLimitTicks: 4,
});

/** Applies defaults and checks ranges. */
export function resolveZooKeeperTiming(timing: ZooKeeperTiming): ResolvedZooKeeperTiming {
  return Object.freeze({
    tickTimeMs: integerOption(
      "tickTimeMs",
      timing.tickTimeMs ?? defaultZooKeeperTiming.tickTimeMs,
      50,
      10_000,
    ),
    initLimitTicks: integerOption(
      "initLimitTicks",
      timing.initLimitTicks ?? defaultZooKeeperTiming.initLimitTicks,
      1,
      100,
    ),
    syncLimitTicks: integerOption(
      "syncLimitTicks",
      timing.syncLimitTicks ?? defaultZooKeeperTiming.syncLimitTicks,
      1,
      100,
    ),
  });
}

const dnsSecurityFile = "/etc/elector/dns.java.security";

/**
 * Files every ZooKeeper container gets before it starts. Docker's DNS has no name for a
 * stopped or disconnected peer; a server that looked it up meanwhile would cache the failure
 * for 10 s (java.security's `networkaddress.cache.negative.ttl`) and not see it come back:
 * about one restart of a ZooKeeper 3.9 quorum leader in three took 10 to 12 s instead of 2.
 */
export const zooKeeperFiles: readonly { readonly content: string; readonly target: string }[] = [
  { content: "networkaddress.cache.negative.ttl=0\n", target: dnsSecurityFile },
];

/** The official image's environment for one server, with our timing. */
export function zooKeeperEnvironment(timing: ResolvedZooKeeperTiming): Record<string, string> {
  return {
    ZOO_TICK_TIME: String(timing.tickTimeMs),
    ZOO_INIT_LIMIT: String(timing.initLimitTicks),
    ZOO_SYNC_LIMIT: String(timing.syncLimitTicks),
    ZOO_4LW_COMMANDS_WHITELIST: "*",
    ZOO_ADMINSERVER_ENABLED: "false",
    // quorumListenOnAllIPs: a member that leaves the cluster network and comes back gets a
    // new address there, and must still accept its peers. maxSessionTimeout: clients may ask
    // for long sessions despite the short tick.
    ZOO_CFG_EXTRA: `quorumListenOnAllIPs=true maxSessionTimeout=${120 * timing.tickTimeMs}`,
    // The JVM caches host names for 30 s; a reconnected peer's new address must be seen at
    // once. It also caches a failed lookup for 10 s, a setting of java.security that only a
    // security properties file overrides (see zooKeeperFiles). A server that looks for a
    // leader backs off up to 60 s between rounds; after a long partition it would take that
    // long to rejoin. Serial GC: three JVMs, two cores.
    SERVER_JVMFLAGS: `-Dsun.net.inetaddr.ttl=0 -Djava.security.properties=${dnsSecurityFile} -Dzookeeper.fastleader.maxNotificationInterval=${4 * timing.tickTimeMs} -XX:+UseSerialGC`,
  };
}

/** What `srvr` says about a server's role. `not-serving` while it has no quorum. */
export type ZooKeeperMode = "standalone" | "leader" | "follower" | "observer" | "not-serving";

/** Ready when `srvr` reports a mode: the server has joined a quorum and serves clients. */
export const zooKeeperProbe: Probe = async ({ host, port }, signal) => {
  const answer = await sendFourLetterWord(host, port, "srvr", signal);
  if (parseMode(answer) === "not-serving") {
    throw new Error(`srvr answered ${JSON.stringify(answer.trim() || "nothing")}`);
  }
};

/** Reads the mode from a `srvr` answer. */
export function parseMode(srvr: string): ZooKeeperMode {
  const mode = /^Mode: (\w+)/m.exec(srvr)?.[1];
  return mode === "standalone" || mode === "leader" || mode === "follower" || mode === "observer"
    ? mode
    : "not-serving";
}

/**
 * A standalone ZooKeeper server for tests, with four-letter words enabled.
 *
 * @example
 * ```ts
 * await using zk = await new ZooKeeperContainer().start();
 * const client = new ZooKeeper({ connect: zk.getConnectionString(), timeout: 5000 });
 * ```
 */
export class ZooKeeperContainer extends ServerBuilder<StartedZooKeeperContainer> {
  private timing: ResolvedZooKeeperTiming = defaultZooKeeperTiming;

  /**
   * @param image the image to start; defaults to `ELECTOR_ZOOKEEPER_IMAGE`, else
   * `zookeeper:3.9.3`.
   * @throws TestingSetupError `invalid-image` when the image name is empty or malformed.
   */
  constructor(image?: string) {
    super("zookeeper", image);
  }

  /** Tick time and limits; see {@link ZooKeeperTiming}. */
  withTiming(timing: ZooKeeperTiming): this {
    this.timing = resolveZooKeeperTiming(timing);
    return this;
  }

  /**
   * Starts the server and waits until `srvr` reports it serving.
   *
   * @throws TestingSetupError `docker-unavailable`, `image-missing` or `start-failed`.
   */
  override async start(): Promise<StartedZooKeeperContainer> {
    const server = await startServer({
      image: this.image,
      containerPort: zooKeeperClientPort,
      environment: { ...zooKeeperEnvironment(this.timing), ...this.environment },
      contents: zooKeeperFiles,
      probe: zooKeeperProbe,
      startupTimeoutMs: this.startupTimeoutMs,
      what: "zookeeper",
    });
    return new StartedZooKeeperContainer(server, this.timing);
  }
}

/** A running ZooKeeper server: its address, four-letter words, and the faults of {@link StartedServerContainer}. */
export class StartedZooKeeperContainer extends StartedServerContainer {
  /** `tickTime` in milliseconds, to derive time bounds from. */
  readonly tickTimeMs: number;
  /** `initLimit` in ticks. */
  readonly initLimitTicks: number;
  /** `syncLimit` in ticks. */
  readonly syncLimitTicks: number;

  /** @internal Built by {@link ZooKeeperContainer.start} and {@link ZooKeeperEnsemble.start}. */
  constructor(server: StartedServer, timing: ResolvedZooKeeperTiming) {
    super(server);
    this.tickTimeMs = timing.tickTimeMs;
    this.initLimitTicks = timing.initLimitTicks;
    this.syncLimitTicks = timing.syncLimitTicks;
  }

  /** The host port of the client port; the same after {@link restart}. */
  getClientPort(): number {
    return this.getPublishedPort();
  }

  /** `host:port` for a ZooKeeper client, for example `127.0.0.1:24181`. */
  getConnectionString(): string {
    return `${this.getHost()}:${this.getClientPort()}`;
  }

  /**
   * Sends a four-letter word (`ruok`, `srvr`, `mntr`, `stat`, …; all are enabled) and returns
   * the answer.
   *
   * @throws TestingSetupError `invalid-option` unless `word` is four lowercase letters;
   * `probe-failed` when the server does not answer within `timeoutMs`.
   *
   * @example
   * ```ts
   * expect(await zk.fourLetterWord("ruok")).toBe("imok");
   * ```
   */
  async fourLetterWord(
    word: string,
    options: { readonly timeoutMs?: number } = {},
  ): Promise<string> {
    if (!/^[a-z]{4}$/.test(word)) {
      throw new TestingSetupError(
        "invalid-option",
        `a four-letter word must be four lowercase letters such as "srvr", got ${JSON.stringify(word)}`,
      );
    }
    const timeoutMs = options.timeoutMs ?? 5_000;
    try {
      return await sendFourLetterWord(
        this.getHost(),
        this.getClientPort(),
        word,
        AbortSignal.timeout(timeoutMs),
      );
    } catch (error) {
      throw new TestingSetupError(
        "probe-failed",
        `${this.description} did not answer "${word}" within ${timeoutMs} ms: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }

  /** The server's role now, from `srvr`; `not-serving` while it has no quorum. */
  async getMode(options: { readonly timeoutMs?: number } = {}): Promise<ZooKeeperMode> {
    return parseMode(await this.fourLetterWord("srvr", options));
  }
}
