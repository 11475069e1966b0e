// The servers a chaos run contends on: a local etcd cluster or ZooKeeper ensemble started
// through @elector/testing (whose members the nemesis may pause, kill and restart), or the
// user's own servers named by ELECTOR_URL (only client-side faults then). Also: what is left
// on them once every candidate has closed.
import { readFileSync } from "node:fs";
import { parseElectorUrl, redactUrl, resolveConfig } from "@elector/core";
import {
  EtcdCluster,
  type StartedEtcdCluster,
  type StartedServerContainer,
  type StartedZooKeeperEnsemble,
  ZooKeeperEnsemble,
} from "@elector/testing";
import { Etcd3, type IOptions } from "etcd3";
import { openEtcdClient } from "../support/etcd-client.js";
import { openZooKeeperClient } from "../support/zookeeper-client.js";

export type Backend = "etcd" | "zookeeper";

/** A server member the nemesis may fault, with a way to ask whether it leads its quorum. */
export interface Member {
  readonly name: string;
  readonly server: StartedServerContainer;
  isLeader(): Promise<boolean>;
}

/** What a run needs from its servers. */
export interface ChaosServers {
  readonly backend: Backend;
  /** Says where they are, for the report (a user's password redacted). */
  readonly description: string;
  /** The leadership TTL (etcd) or session timeout (ZooKeeper), in ms. */
  readonly ttlMs: number;
  /** Every server as `host:port`; each candidate gets a proxy in front of each. */
  readonly hosts: readonly string[];
  /** Members the nemesis may pause, kill and restart; none on a user's servers. */
  readonly members: readonly Member[];
  /** The URL a candidate connects with, through `hosts` (its proxies). */
  urlFor(hosts: readonly string[]): string;
  /** Compacts etcd's history up to now (etcd only). */
  compact?(): Promise<void>;
  /** Notes what the candidates hold now (etcd: their leases), for {@link leftovers}. */
  observe(): Promise<void>;
  /** Keys or znodes, and leases, that remain under the run's root. */
  leftovers(): Promise<{ nodes: string[]; leases: string[] }>;
  stop(): Promise<void>;
}

/** Starts local servers for `backend`, or uses ELECTOR_URL's. */
export async function startServers(
  backend: Backend,
  runId: string,
  election: string,
  userUrl: string | undefined,
): Promise<ChaosServers> {
  if (userUrl !== undefined) return userServers(userUrl, runId, election);
  return backend === "etcd"
    ? localEtcd(await new EtcdCluster().start(), runId)
    : localZooKeeper(await new ZooKeeperEnsemble().start(), runId, election);
}

/** The backend that ELECTOR_URL names. */
export function backendOf(url: string): Backend {
  const config = parseElectorUrl(url);
  if (config.backend === "memory") {
    throw new Error(
      `ELECTOR_URL=${redactUrl(url)}: the chaos campaign needs a server (etcd:// or zk://); the memory backend lives in one process and its candidates are child processes`,
    );
  }
  return config.backend;
}

/** etcd's default TTL for the campaign: the smallest the SDK allows, for short failovers. */
const localTtlSeconds = 2;
/** ZooKeeper's: the same 2 s, within the test ensemble's 1 s to 60 s. */
const localSessionTimeoutMs = 2_000;

function localEtcd(cluster: StartedEtcdCluster, runId: string): ChaosServers {
  const client = openEtcdClient(cluster.getClientEndpoints(), 5_000);
  const prefix = `chaos-${runId}`;
  return {
    backend: "etcd",
    description: `a local etcd cluster of ${cluster.members.length} members`,
    ttlMs: localTtlSeconds * 1_000,
    hosts: cluster.members.map((member) => `${member.getHost()}:${member.getClientPort()}`),
    members: cluster.members.map((member) => ({
      name: member.memberName,
      server: member,
      isLeader: () => member.isLeader(),
    })),
    urlFor: (hosts) => `etcd://${hosts.join(",")}/${prefix}?ttl=${localTtlSeconds}`,
    ...etcdInspection(client, prefix, true),
    stop: async () => {
      client.close();
      await cluster.stop();
    },
  };
}

function localZooKeeper(
  ensemble: StartedZooKeeperEnsemble,
  runId: string,
  election: string,
): ChaosServers {
  const root = `/chaos-${runId}`;
  const connect = ensemble.getConnectionString();
  return {
    backend: "zookeeper",
    description: `a local ZooKeeper ensemble of ${ensemble.servers.length} servers`,
    ttlMs: localSessionTimeoutMs,
    hosts: ensemble.servers.map((server) => server.getConnectionString()),
    members: ensemble.servers.map((server) => ({
      name: `zk-${server.myId}`,
      server,
      isLeader: async () => (await server.getMode()) === "leader",
    })),
    urlFor: (hosts) => `zk://${hosts.join(",")}${root}?sessionTimeoutMs=${localSessionTimeoutMs}`,
    observe: async () => {},
    leftovers: () => zooKeeperLeftovers(connect, `${root}/${election}`, localSessionTimeoutMs),
    stop: () => ensemble.stop(),
  };
}

/** The user's servers: the URL's hosts, settings and credentials, under a path of the run's own. */
function userServers(url: string, runId: string, election: string): ChaosServers {
  const config = parseElectorUrl(url);
  const resolved = resolveConfig(config);
  const match = /^([a-z]+:\/\/)(?:(.*)@)?([^/?#]*)([^?#]*)(\?[^#]*)?$/i.exec(url.trim());
  if (match === null || resolved.backend === "memory" || config.backend === "memory") {
    throw new Error(`ELECTOR_URL=${redactUrl(url)}: expected etcd://, etcds:// or zk://`);
  }
  const [, scheme, userinfo, , path = "", query = ""] = match;
  const hosts = resolved.backend === "etcd" ? resolved.endpoints : resolved.servers;
  const plainHosts = hosts.map((host) => host.replace(/^[a-z]+:\/\//i, ""));
  const root = `${path.replace(/\/$/, "")}/chaos-${runId}`;
  const urlFor = (proxies: readonly string[]) =>
    `${scheme}${userinfo === undefined ? "" : `${userinfo}@`}${proxies.join(",")}${root}${query}`;
  const description = `your servers at ${redactUrl(url)}, under ${root}`;
  if (resolved.backend === "zookeeper") {
    return {
      backend: "zookeeper",
      description,
      ttlMs: resolved.sessionTimeoutMs,
      hosts: plainHosts,
      members: [],
      urlFor,
      observe: async () => {},
      leftovers: () =>
        zooKeeperLeftovers(plainHosts.join(","), `${root}/${election}`, resolved.sessionTimeoutMs),
      stop: async () => {},
    };
  }
  const options: IOptions = {
    hosts: hosts.map(
      (host) =>
        `${resolved.tls === undefined ? "http" : "https"}://${host.replace(/^[a-z]+:\/\//i, "")}`,
    ),
    ...(resolved.auth === undefined ? {} : { auth: resolved.auth }),
    ...(resolved.tls?.caFile === undefined
      ? {}
      : { credentials: { rootCertificate: readFileSync(resolved.tls.caFile) } }),
  };
  const client = new Etcd3(options);
  return {
    backend: "etcd",
    description,
    ttlMs: resolved.ttlSeconds * 1_000,
    hosts: plainHosts,
    members: [],
    urlFor,
    ...etcdInspection(client, root.slice(1), false),
    stop: async () => client.close(),
  };
}

function etcdInspection(
  client: Etcd3,
  prefix: string,
  ownsServers: boolean,
): Pick<ChaosServers, "compact" | "observe" | "leftovers"> {
  const seen = new Set<string>();
  return {
    compact: async () => {
      const { header } = await client.kv.range({ key: Buffer.from(prefix), limit: 1 });
      await client.kv.compact({ revision: header.revision });
    },
    observe: async () => {
      const { kvs } = await client.getAll().prefix(`${prefix}/`).exec();
      for (const kv of kvs) if (kv.lease !== "0") seen.add(kv.lease);
    },
    leftovers: async () => {
      const keys = await client.getAll().prefix(`${prefix}/`).keys();
      // On servers of its own the run may list every lease; on a user's, only those it saw.
      const ids = ownsServers
        ? (await client.leaseClient.leaseLeases()).leases.map((lease) => lease.ID)
        : [...seen];
      const leases: string[] = [];
      for (const id of ids) {
        const { TTL } = await client.leaseClient.leaseTimeToLive({ ID: id });
        if (Number(TTL) > 0) leases.push(`lease ${id} (TTL ${TTL} s)`);
      }
      return { nodes: keys, leases };
    },
  };
}

async function zooKeeperLeftovers(
  connect: string,
  electionPath: string,
  sessionTimeoutMs: number,
): Promise<{ nodes: string[]; leases: string[] }> {
  const client = await openZooKeeperClient(connect, {
    sessionTimeoutMs: Math.max(sessionTimeoutMs, 4_000),
    connectTimeoutMs: 15_000,
  });
  try {
    if ((await client.exists(electionPath)) === undefined) return { nodes: [], leases: [] };
    const { children } = await client.getChildren(electionPath);
    return { nodes: children.map((child) => `${electionPath}/${child}`), leases: [] };
  } finally {
    await client.close();
  }
}
