import {
  EtcdContainer,
  PostgreSqlContainer,
  type StartedEtcdContainer,
  type StartedServerContainer,
  type StartedZooKeeperEnsemble,
  ZooKeeperEnsemble,
} from "@elector/testing";
import type { Etcd3 } from "etcd3";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
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

/** One etcd server for the enclosing `describe`; see {@link startedForSuite}. */
export function etcdForSuite(): () => StartedEtcdContainer {
  return startedForSuite("etcd", {
    start: () => new EtcdContainer().start(),
    stop: (etcd) => etcd.remove(),
    servers: (etcd) => [etcd],
  });
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
export function etcdWithClientForSuite(callTimeoutMs = 5_000): () => EtcdWithClient {
  return startedForSuite("etcd", {
    start: async () => {
      const etcd = await new EtcdContainer().start();
      return { etcd, client: openEtcdClient(etcd.getClientEndpoints(), callTimeoutMs) };
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
