import { connect } from "node:net";
import { TestingSetupError } from "./errors.js";
import type { Probe } from "./readiness.js";
import { ServerBuilder } from "./server-builder.js";
import { type StartedServer, startServer } from "./start-server.js";
import { StartedServerContainer } from "./started-server-container.js";

/** PostgreSQL's port inside the container. */
export const postgreSqlPort = 5432;

const readyLine = /database system is ready to accept connections/g;

/**
 * Ready when `pg_isready` reaches the server over TCP inside the container and the host
 * reaches the published port. The image's first start runs a socket-only server to
 * initialise the database, so TCP answers only from the real server on.
 */
function readinessProbe(user: string, database: string): Probe {
  return async (target, signal) => {
    await reachable(target.host, target.port, signal);
    const { exitCode, output } = await target.exec([
      "pg_isready",
      "--host=127.0.0.1",
      `--port=${postgreSqlPort}`,
      `--username=${user}`,
      `--dbname=${database}`,
    ]);
    if (exitCode !== 0) throw new Error(`pg_isready exited ${exitCode}: ${output.trim()}`);
  };
}

/**
 * The first start waits, as testcontainers' PostgreSQL module does, for the ready line
 * twice (the initialising server's, then the real one's) before the probe.
 */
function firstStartProbe(ready: Probe): Probe {
  return async (target, signal) => {
    const times = (await target.logs()).match(readyLine)?.length ?? 0;
    if (times < 2)
      throw new Error(
        `"database system is ready to accept connections" logged ${times} of 2 times`,
      );
    await ready(target, signal);
  };
}

function reachable(host: string, port: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, signal });
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
    socket.once("error", reject);
  });
}

/**
 * A PostgreSQL server for tests (the fencing store's), with the official image's
 * `POSTGRES_USER`, `POSTGRES_PASSWORD` and `POSTGRES_DB`.
 *
 * @example
 * ```ts
 * await using pg = await new PostgreSqlContainer().start();
 * const client = new pg.Client({ connectionString: pg.getConnectionUri() });
 * ```
 */
export class PostgreSqlContainer extends ServerBuilder<StartedPostgreSqlContainer> {
  private username = "elector";
  private password = "elector";
  private database = "elector";

  /**
   * @param image the image to start; defaults to `ELECTOR_POSTGRES_IMAGE`, else `postgres:15`.
   * @throws TestingSetupError `invalid-image` when the image name is empty or malformed.
   */
  constructor(image?: string) {
    super("postgres", image);
  }

  /**
   * The superuser's name (`POSTGRES_USER`).
   *
   * @defaultValue "elector"
   */
  withUsername(username: string): this {
    this.username = identifier("username", username);
    return this;
  }

  /**
   * The superuser's password (`POSTGRES_PASSWORD`).
   *
   * @defaultValue "elector"
   */
  withPassword(password: string): this {
    if (password === "") {
      throw new TestingSetupError(
        "invalid-option",
        "password must not be empty, got an empty string",
      );
    }
    this.password = password;
    return this;
  }

  /**
   * The database created at first start (`POSTGRES_DB`).
   *
   * @defaultValue "elector"
   */
  withDatabase(database: string): this {
    this.database = identifier("database", database);
    return this;
  }

  /**
   * Starts the server and waits until it accepts connections.
   *
   * @throws TestingSetupError `docker-unavailable`, `image-missing` or `start-failed`.
   */
  override async start(): Promise<StartedPostgreSqlContainer> {
    const ready = readinessProbe(this.username, this.database);
    const server = await startServer({
      image: this.image,
      containerPort: postgreSqlPort,
      environment: {
        POSTGRES_USER: this.username,
        POSTGRES_PASSWORD: this.password,
        POSTGRES_DB: this.database,
        ...this.environment,
      },
      probe: ready,
      startProbe: firstStartProbe(ready),
      startupTimeoutMs: this.startupTimeoutMs,
      what: "postgres",
    });
    return new StartedPostgreSqlContainer(server, this.username, this.password, this.database);
  }
}

/** A running PostgreSQL server: how to connect, and the faults of {@link StartedServerContainer}. */
export class StartedPostgreSqlContainer extends StartedServerContainer {
  /** @internal Built by {@link PostgreSqlContainer.start}. */
  constructor(
    server: StartedServer,
    private readonly username: string,
    private readonly password: string,
    private readonly database: string,
  ) {
    super(server);
  }

  /** The host port of the server port; the same after {@link restart}. */
  getPort(): number {
    return this.getPublishedPort();
  }

  /** The superuser's name. */
  getUsername(): string {
    return this.username;
  }

  /** The superuser's password. */
  getPassword(): string {
    return this.password;
  }

  /** The database created at first start. */
  getDatabase(): string {
    return this.database;
  }

  /** `postgresql://user:password@host:port/database`, encoded. */
  getConnectionUri(): string {
    const user = encodeURIComponent(this.username);
    const password = encodeURIComponent(this.password);
    return `postgresql://${user}:${password}@${this.getHost()}:${this.getPort()}/${encodeURIComponent(this.database)}`;
  }
}

// Plain names only: the image passes them to initdb and CREATE DATABASE unquoted in places.
function identifier(option: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(value)) {
    throw new TestingSetupError(
      "invalid-option",
      `${option} must be a plain PostgreSQL identifier (letters, digits, _; at most 63), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
