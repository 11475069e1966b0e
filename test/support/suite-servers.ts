import {
  EtcdCluster,
  EtcdContainer,
  PostgreSqlContainer,
  type StartedEtcdCluster,
  type StartedEtcdContainer,
  type StartedServerContainer,
  type StartedZooKeeperContainer,
  type StartedZooKeeperEnsemble,
  ZooKeeperContainer,
  ZooKeeperEnsemble,
} from "@elector/testing";
import type { Etcd3 } from "etcd3";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import {
  CraftedZooKeeper,
  type CraftedZooKeeperOptions,
} from "../integration/zookeeper/crafted-zookeeper.js";
import { ProxyHost } from "../integration/zookeeper/proxy-host.js";
import { ZooKeeperInspector } from "../integration/zookeeper/zookeeper-faults.js";
import { openEtcdClient } from "./etcd-client.js";
import { printServerLogsOnFailure } from "./server-logs.js";

/** What a suite starts once and shares between its tests. */
export interface SuiteResource<T> {
  /** Starts it. Releases whatever it started itself if it fails part-way. */
  start(): Promise<T>;
  /** Stops it and removes its servers. */
  stop(started: T): Promise<void>;
  /** The servers whose logs to print after a test that failed. */
  servers(started: T): readonly StartedServerContainer[];
}

/**
 * Starts `resource` before the tests of the enclosing `describe` and stops it after them, and
 * prints its servers' logs after a test that failed. Returns an accessor that throws while it
 * has not started (its start failed), naming it as `what`.
 */
export function startedForSuite<T>(what: string, resource: SuiteResource<T>): () => T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await resource.start();
  });
  afterAll(async () => {
    if (started !== undefined) await resource.stop(started);
  });
  printServerLogsOnFailure(() => (started === undefined ? [] : resource.servers(started)));
  return () => {
    if (started === undefined) throw new Error(`${what} did not start`);
    return started;
  };
}

/** Settings of the server that a suite's etcd starts with. */
export interface EtcdSuiteOptions {
  /** Its environment, e.g. `ETCD_MAX_REQUEST_BYTES`, beside the harness's own. */
  readonly environment?: Record<string, string>;
}

/** One etcd server for the enclosing `describe`; see {@link startedForSuite}. */
export function etcdForSuite(options: EtcdSuiteOptions = {}): () => StartedEtcdContainer {
  return startedForSuite("etcd", {
    start: () => startEtcd(options),
    stop: (etcd) => etcd.remove(),
    servers: (etcd) => [etcd],
  });
}

function startEtcd({ environment }: EtcdSuiteOptions): Promise<StartedEtcdContainer> {
  const container = new EtcdContainer();
  return (environment === undefined ? container : container.withEnvironment(environment)).start();
}

/** An etcd server and a client of it, as {@link etcdWithClientForSuite} starts them. */
export interface EtcdWithClient {
  readonly etcd: StartedEtcdContainer;
  readonly client: Etcd3;
}

/**
 * One etcd server for the enclosing `describe`, with a client whose calls fail after
 * `callTimeoutMs`; see {@link startedForSuite}.
 */
export function etcdWithClientForSuite(
  callTimeoutMs: number | ((etcd: StartedEtcdContainer) => number) = 5_000,
  options: EtcdSuiteOptions = {},
): () => EtcdWithClient {
  return startedForSuite("etcd", {
    start: async () => {
      const etcd = await startEtcd(options);
      const timeoutMs = typeof callTimeoutMs === "number" ? callTimeoutMs : callTimeoutMs(etcd);
      return { etcd, client: openEtcdClient(etcd.getClientEndpoints(), timeoutMs) };
    },
    stop: async ({ etcd, client }) => {
      client.close();
      await etcd.remove();
    },
    servers: ({ etcd }) => [etcd],
  });
}

/**
 * A PostgreSQL server for the enclosing `describe`, and a pool of at most `max` connections
 * to it on which `prepare` has run (to create tables); see {@link startedForSuite}.
 */
export function postgresPoolForSuite(options: {
  max: number;
  prepare?: (pool: pg.Pool) => Promise<void>;
}): () => pg.Pool {
  const started = startedForSuite("PostgreSQL", {
    start: async () => {
      const postgres = await new PostgreSqlContainer().start();
      const pool = new pg.Pool({ connectionString: postgres.getConnectionUri(), max: options.max });
      try {
        await options.prepare?.(pool);
      } catch (error) {
        await pool.end();
        await postgres.remove();
        throw error;
      }
      return { postgres, pool };
    },
    stop: async ({ postgres, pool }) => {
      await pool.end();
      await postgres.remove();
    },
    servers: ({ postgres }) => [postgres],
  });
  return () => started().pool;
}

/** A three-server ZooKeeper ensemble for the enclosing `describe`; see {@link startedForSuite}. */
export function zooKeeperEnsembleForSuite(): () => StartedZooKeeperEnsemble {
  return startedForSuite("the ZooKeeper ensemble", {
    start: () => new ZooKeeperEnsemble().start(),
    stop: (ensemble) => ensemble.stop(),
    servers: (ensemble) => ensemble.servers,
  });
}

/** A three-member etcd cluster for the enclosing `describe`; see {@link startedForSuite}. */
export function etcdClusterForSuite(): () => StartedEtcdCluster {
  return startedForSuite("the etcd cluster", {
    start: () => new EtcdCluster().start(),
    stop: (cluster) => cluster.stop(),
    servers: (cluster) => cluster.members,
  });
}

/** Settings of the server that a suite's ZooKeeper starts with. */
export interface ZooKeeperSuiteOptions {
  /** Its environment, e.g. `ZOO_CFG_EXTRA` or `SERVER_JVMFLAGS`, beside the harness's own. */
  readonly environment?: Record<string, string>;
}

/** One standalone ZooKeeper server for the enclosing `describe`; see {@link startedForSuite}. */
export function zooKeeperForSuite(
  options: ZooKeeperSuiteOptions = {},
): () => StartedZooKeeperContainer {
  return startedForSuite("ZooKeeper", {
    start: () => startZooKeeper(options),
    stop: (zookeeper) => zookeeper.remove(),
    servers: (zookeeper) => [zookeeper],
  });
}

function startZooKeeper({ environment }: ZooKeeperSuiteOptions) {
  const container = new ZooKeeperContainer();
  return (environment === undefined ? container : container.withEnvironment(environment)).start();
}

/** A ZooKeeper server with what fault tests use beside it, as {@link zooKeeperWithToolsForSuite} starts them. */
export interface ZooKeeperWithTools {
  readonly zookeeper: StartedZooKeeperContainer;
  /** A session of its own, to read and delete nodes and to expire others' sessions. */
  readonly inspector: ZooKeeperInspector;
  /** Fault proxies in a process of their own: see proxy-host.ts. */
  readonly proxyHost: ProxyHost;
}

/** A standalone ZooKeeper server with an inspector session on it and a proxy host. */
export const zooKeeperWithTools: SuiteResource<ZooKeeperWithTools> = {
  start: async () => {
    const zookeeper = await new ZooKeeperContainer().start();
    let inspector: ZooKeeperInspector | undefined;
    try {
      inspector = await ZooKeeperInspector.open(zookeeper.getConnectionString());
      return { zookeeper, inspector, proxyHost: await ProxyHost.start() };
    } catch (error) {
      await inspector?.[Symbol.asyncDispose]();
      await zookeeper.remove();
      throw error;
    }
  },
  stop: async ({ zookeeper, inspector, proxyHost }) => {
    await proxyHost[Symbol.asyncDispose]();
    await inspector[Symbol.asyncDispose]();
    await zookeeper.remove();
  },
  servers: ({ zookeeper }) => [zookeeper],
};

/**
 * One standalone ZooKeeper server for the enclosing `describe`, with an inspector session on
 * it and a proxy host; see {@link startedForSuite}.
 */
export function zooKeeperWithToolsForSuite(): () => ZooKeeperWithTools {
  return startedForSuite("ZooKeeper", zooKeeperWithTools);
}

/** A local crafted ZooKeeper server and an inspector session on it. */
export interface CraftedZooKeeperWithInspector {
  readonly zookeeper: CraftedZooKeeper;
  readonly inspector: ZooKeeperInspector;
}

/**
 * One local {@link CraftedZooKeeper} server for the enclosing `describe`, with an inspector
 * session on it; see {@link startedForSuite}. It is a process, not a container: it has no
 * log to print after a failure.
 */
export function craftedZooKeeperForSuite(
  options: CraftedZooKeeperOptions = {},
): () => CraftedZooKeeperWithInspector {
  return startedForSuite("the crafted ZooKeeper", {
    start: async () => {
      const zookeeper = await CraftedZooKeeper.start(options);
      try {
        return { zookeeper, inspector: await ZooKeeperInspector.open(zookeeper.connectionString) };
      } catch (error) {
        await zookeeper[Symbol.asyncDispose]();
        throw error;
      }
    },
    stop: async ({ zookeeper, inspector }) => {
      await inspector[Symbol.asyncDispose]();
      await zookeeper[Symbol.asyncDispose]();
    },
    servers: () => [],
  });
}
