// The servers a benchmark runs against: a container of @elector/testing by default, a local
// server process of Debian's packages with BENCH_SERVERS=local (etcd-server, zookeeper), or
// one of yours with BENCH_ETCD_ENDPOINTS / BENCH_ZOOKEEPER_CONNECT. Local processes take
// Docker's proxy and bridge out of every round trip. BENCH_ETCD_BINARY names another etcd
// binary for the local process, for example the 3.5.16 of the Debian 13 image (bench/README.md).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EtcdContainer, ZooKeeperContainer } from "@elector/testing";

/** A started server, described for the result's heading. */
export interface BenchServer extends AsyncDisposable {
  /** etcd client endpoints (`host:port`), or a ZooKeeper connect string. */
  readonly address: string;
  /** What it is: `etcd container elector-local/etcd:…`, `local zookeeper process`, … */
  readonly description: string;
}

const local = process.env.BENCH_SERVERS === "local";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `port` accepts a connection, within 30 s. */
async function listening(port: number, child: ChildProcess): Promise<void> {
  const until = performance.now() + 30_000;
  while (performance.now() < until) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, "127.0.0.1");
      socket.once("connect", () => resolve(socket.destroy() === socket));
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after 30 s`);
}

/** Starts a process, and stops it and removes its data directory on dispose. */
async function localProcess(
  description: string,
  port: number,
  start: (dataDir: string) => ChildProcess,
): Promise<{ [Symbol.asyncDispose](): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), "elector-bench-"));
  const child = start(dataDir);
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await listening(port, child);
  } catch (error) {
    await stop();
    throw new Error(`${description} did not start`, { cause: error });
  }
  return { [Symbol.asyncDispose]: stop };
}

/** One etcd server, for the etcd benchmarks. */
export async function etcdServer(): Promise<BenchServer> {
  const given = process.env.BENCH_ETCD_ENDPOINTS;
  if (given !== undefined) {
    return {
      address: given,
      description: `etcd at ${given}`,
      [Symbol.asyncDispose]: async () => {},
    };
  }
  if (local) {
    const binary = process.env.BENCH_ETCD_BINARY ?? "etcd";
    // "etcd Version: 3.5.16": the version decides which checks the elector makes.
    const version = execFileSync(binary, ["--version"], { encoding: "utf8" }).split("\n")[0];
    const [client, peer] = [await freePort(), await freePort()];
    const server = await localProcess("a local etcd process", client, (dataDir) =>
      spawn(
        binary,
        [
          `--data-dir=${dataDir}`,
          `--listen-client-urls=http://127.0.0.1:${client}`,
          `--advertise-client-urls=http://127.0.0.1:${client}`,
          `--listen-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-cluster=default=http://127.0.0.1:${peer}`,
        ],
        { stdio: "ignore" },
      ),
    );
    return {
      address: `127.0.0.1:${client}`,
      description: `a local etcd process (${binary}, ${version})`,
      [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
    };
  }
  const container = await new EtcdContainer().start();
  return {
    address: container.getClientEndpoint(),
    description: `an etcd container (${process.env.ELECTOR_ETCD_IMAGE ?? "default image"})`,
    [Symbol.asyncDispose]: () => container.remove(),
  };
}

/** One ZooKeeper server with no limit on connections per client, for the ZooKeeper benchmarks. */
export async function zookeeperServer(): Promise<BenchServer> {
  const given = process.env.BENCH_ZOOKEEPER_CONNECT;
  if (given !== undefined) {
    return {
      address: given,
      description: `ZooKeeper at ${given}`,
      [Symbol.asyncDispose]: async () => {},
    };
  }
  if (local) {
    const port = await freePort();
    const server = await localProcess("a local ZooKeeper process", port, (dataDir) => {
      const config = join(dataDir, "zoo.cfg");
      writeFileSync(
        config,
        [
          "tickTime=2000",
          `dataDir=${dataDir}`,
          `clientPort=${port}`,
          "clientPortAddress=127.0.0.1",
          "maxClientCnxns=0",
          "admin.enableServer=false",
          "",
        ].join("\n"),
      );
      return spawn(
        "java",
        ["-cp", "/usr/share/java/*", "org.apache.zookeeper.server.quorum.QuorumPeerMain", config],
        { stdio: "ignore" },
      );
    });
    return {
      address: `127.0.0.1:${port}`,
      description: "a local ZooKeeper process (Debian's zookeeper)",
      [Symbol.asyncDispose]: () => server[Symbol.asyncDispose](),
    };
  }
  const container = await new ZooKeeperContainer()
    .withEnvironment({ ZOO_MAX_CLIENT_CNXNS: "0" })
    .start();
  return {
    address: container.getConnectionString(),
    description: `a ZooKeeper container (${process.env.ELECTOR_ZOOKEEPER_IMAGE ?? "default image"})`,
    [Symbol.asyncDispose]: () => container.remove(),
  };
}
