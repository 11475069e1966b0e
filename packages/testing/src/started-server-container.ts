import type { ExecResult, StartedTestContainer } from "testcontainers";
import { dockerStatusCode } from "./docker.js";
import { isTestingSetupError, messageOf, TestingSetupError } from "./errors.js";
import { releaseHostPort } from "./host-port.js";
import { type DockerContainer, pollUntilReady, probeTarget, readLogs } from "./readiness.js";
import type { StartedServer } from "./start-server.js";

/** Options of {@link StartedServerContainer.stop}. */
export interface StopOptions {
  /**
   * Send SIGTERM and give the server `timeoutSeconds` to shut down, rather than crash it.
   *
   * @defaultValue false
   */
  readonly graceful?: boolean;
  /**
   * With `graceful`, how long before Docker sends SIGKILL.
   *
   * @defaultValue 10
   */
  readonly timeoutSeconds?: number;
}

/** Options of {@link StartedServerContainer.restart}. */
export interface RestartOptions {
  /**
   * Wait until the server answers again. Turn off to bring back several members of a
   * cluster that has lost its quorum, then wait for each with `waitUntilReady()`.
   *
   * @defaultValue true
   */
  readonly waitUntilReady?: boolean;
  /**
   * How long to wait.
   *
   * @defaultValue the builder's startup timeout
   */
  readonly timeoutMs?: number;
}

/**
 * What every started server has: its container, its log, and the faults a test injects.
 * The same method names on etcd, ZooKeeper and PostgreSQL servers, alone or in a cluster.
 *
 * Faults keep the container and its data: {@link stop} crashes the server and
 * {@link restart} brings it back from the same data directory, on the same host port, so a
 * client's endpoint stays valid throughout. {@link remove} (or `await using`) is the end.
 */
export abstract class StartedServerContainer implements AsyncDisposable {
  /**
   * The testcontainers handle, for what this class does not wrap (copying files, for
   * example). Its `stop()` removes the container; prefer {@link remove}.
   */
  readonly container: StartedTestContainer;
  /** Names this server in messages, for example `etcd member etcd-2`. */
  readonly description: string;
  private readonly server: StartedServer;
  private removal: Promise<void> | undefined;

  protected constructor(server: StartedServer) {
    this.server = server;
    this.container = server.started;
    this.description = server.what;
  }

  /**
   * The address clients dial, and the only host address the server's port is published on:
   * `127.0.0.1` for a local Docker engine; the gateway of Docker's bridge (often
   * `172.17.0.1`) when this process runs in a container; `TESTCONTAINERS_HOST_OVERRIDE` when
   * set. Build endpoints from it, never from a literal `127.0.0.1`.
   */
  getHost(): string {
    return this.server.host;
  }

  /** The Docker container id. */
  getId(): string {
    return this.container.getId();
  }

  /** The Docker container name. */
  getName(): string {
    return this.container.getName().replace(/^\//, "");
  }

  /** The host port that the server's main port is published on; it survives restarts. */
  protected getPublishedPort(): number {
    return this.server.hostPort;
  }

  /**
   * Runs a command inside the container, without a shell (the official etcd image has none).
   *
   * @example
   * ```ts
   * const { exitCode, stdout } = await etcd.exec(["etcdctl", "endpoint", "status"]);
   * ```
   */
  exec(command: readonly string[]): Promise<ExecResult> {
    return this.dockerCall("exec()", () => this.container.exec([...command]));
  }

  /**
   * The server's whole log so far (standard output and error), to print when a test fails.
   *
   * @example
   * ```ts
   * onTestFailed(async () => console.log(await etcd.logs()));
   * ```
   */
  logs(): Promise<string> {
    return this.dockerCall("logs()", () => readLogs(this.docker()));
  }

  /**
   * Freezes every process of the server (`docker pause`): connections stay open and nothing
   * answers, as in a long GC pause or a hung host.
   *
   * @throws TestingSetupError `docker-failed` when the container is not running.
   */
  async pause(): Promise<void> {
    await this.dockerCall("pause()", () => this.docker().pause());
  }

  /** Lets a paused server run on, with its connections and state as they were. */
  async unpause(): Promise<void> {
    await this.dockerCall("unpause()", () => this.docker().unpause());
  }

  /**
   * Crashes the server (SIGKILL, or SIGTERM with `graceful`) and keeps its container and data
   * for {@link restart}. Stopping a stopped server does nothing.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    const docker = this.docker();
    await this.dockerCall("stop()", async () => {
      const { State } = await docker.inspect();
      if (!State.Running) return;
      if (options.graceful === true) {
        if (State.Paused) await docker.unpause();
        await docker.stop({ t: options.timeoutSeconds ?? 10 });
      } else {
        // Docker delivers SIGKILL to a paused container too.
        await docker.kill({ signal: "SIGKILL" });
      }
      await docker.wait({ condition: "not-running" });
    });
  }

  /**
   * Brings the server back from its data, on the same host port, and waits until it
   * answers. A running server is crashed first, so this is also "crash and recover".
   *
   * @throws TestingSetupError `not-ready` when it does not answer within the timeout; a
   * cluster member answers only once it has a quorum again.
   */
  async restart(options: RestartOptions = {}): Promise<void> {
    await this.stop();
    await this.dockerCall("restart()", () => this.docker().start());
    if (options.waitUntilReady !== false) {
      await this.waitUntilReady(
        options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
      );
    }
  }

  /**
   * Waits until the server answers its readiness probe (etcd's `/health`, ZooKeeper's
   * `srvr`, PostgreSQL's `pg_isready`).
   *
   * @throws TestingSetupError `not-ready`, with the end of the server log.
   */
  async waitUntilReady(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    const { client, host, hostPort, probe, startupTimeoutMs, what } = this.server;
    await pollUntilReady(probeTarget(client, this.docker(), host, hostPort), probe, {
      timeoutMs: options.timeoutMs ?? startupTimeoutMs,
      what,
    });
  }

  /** Removes the container and its data. Safe to call more than once. */
  remove(): Promise<void> {
    this.removal ??= this.dockerCall("remove()", async () => {
      try {
        await this.docker().remove({ force: true, v: true });
      } catch (error) {
        if (dockerStatusCode(error) !== 404) throw error;
      }
      releaseHostPort(this.server.hostPort);
    }).catch((error: unknown) => {
      // Let a later call try again rather than replay this failure.
      this.removal = undefined;
      throw error;
    });
    return this.removal;
  }

  /** Same as {@link remove}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.remove();
  }

  /** Dockerode's handle on the container. */
  protected docker(): DockerContainer {
    return this.server.client.container.getById(this.getId());
  }

  /** Runs a Docker call, turning its failure into one message that names the server. */
  protected async dockerCall<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (isTestingSetupError(error)) throw error;
      throw new TestingSetupError(
        "docker-failed",
        `${action} of ${this.description} (container ${this.getName()}) failed: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }
}
