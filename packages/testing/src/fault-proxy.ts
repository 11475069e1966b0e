import { createServer, type Server } from "node:net";
import { messageOf, TestingSetupError } from "./errors.js";
import { integerOption } from "./options.js";
import { ProxyConnection, type ProxyFaults } from "./proxy-connection.js";

/** Options of {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /**
   * Where to forward: `host:port`, or a URL with a port (`http://127.0.0.1:2379`), in which
   * case {@link FaultProxy.endpoint} is a URL of the same scheme.
   */
  readonly target: string;
  /**
   * The address to listen on; the port is chosen by the system.
   *
   * @defaultValue "127.0.0.1"
   */
  readonly listenHost?: string;
}

/**
 * An in-process TCP proxy to put between one client and a server, to cut, slow down or reset
 * that client's connections while every other client reaches the server directly.
 *
 * Faults:
 * - {@link blackhole}: nothing passes either way; connections stay open, and new ones are
 *   accepted but not forwarded. Bytes are held, not dropped, as a partition delays TCP
 *   segments without losing some from the middle of a stream: after {@link heal} they
 *   arrive, unless a side gave up and reset the connection first.
 * - {@link latency}: every chunk is delayed by the given time, each way.
 * - {@link resetConnections}: every open connection gets a TCP reset, both ways.
 * - {@link heal}: back to a plain proxy; held bytes are delivered at once.
 *
 * @example
 * ```ts
 * await using proxy = await FaultProxy.start({ target: etcd.getClientEndpoint() });
 * const client = new Etcd3({ hosts: proxy.endpoint });
 * proxy.blackhole();
 * ```
 */
export class FaultProxy implements AsyncDisposable {
  private readonly faults: ProxyFaults = { blackholed: false, latencyMs: 0 };
  private readonly connections = new Set<ProxyConnection>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    /** The target as given. */
    readonly target: string,
    private readonly scheme: string | undefined,
    private readonly listenHost: string,
  ) {}

  /**
   * Listens on a free port and forwards to `target`.
   *
   * @throws TestingSetupError `invalid-option` when `target` is not `host:port` or a URL
   * with a port; `start-failed` when listening fails.
   */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const target = parseTarget(options.target);
    const listenHost = options.listenHost ?? "127.0.0.1";
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: false });
    const proxy = new FaultProxy(server, options.target, target.scheme, listenHost);
    server.on("connection", (socket) => {
      const connection = new ProxyConnection(socket, target, proxy.faults, (closed) =>
        proxy.connections.delete(closed),
      );
      proxy.connections.add(connection);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen({ host: listenHost, port: 0 }, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      throw new TestingSetupError(
        "start-failed",
        `the fault proxy could not listen on ${listenHost}: ${messageOf(error)}`,
        { cause: error },
      );
    }
    return proxy;
  }

  /** The port the proxy listens on. */
  get port(): number {
    const address = this.server.address();
    return typeof address === "object" && address !== null ? address.port : 0;
  }

  /**
   * Where a client connects instead of the target: `127.0.0.1:PORT`, or
   * `http://127.0.0.1:PORT` when the target was given as an `http://` URL.
   */
  get endpoint(): string {
    const host = this.listenHost.includes(":") ? `[${this.listenHost}]` : this.listenHost;
    return this.scheme === undefined
      ? `${host}:${this.port}`
      : `${this.scheme}//${host}:${this.port}`;
  }

  /** How many client connections are open through the proxy now. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Lets nothing through, either way, until {@link heal}; see the class description. */
  blackhole(): void {
    this.faults.blackholed = true;
  }

  /**
   * Delays every chunk by `ms` each way (so a request and its answer by `2 × ms`), in order.
   * Applies to bytes that arrive from now on; `latency(0)` removes it.
   *
   * @throws TestingSetupError `invalid-option` unless an integer from 0 to 600000.
   */
  latency(ms: number): void {
    this.faults.latencyMs = integerOption("latency ms", ms, 0, 600_000);
  }

  /** Resets every open connection, both ways (RST); new connections are accepted as usual. */
  resetConnections(): void {
    for (const connection of [...this.connections]) connection.reset();
  }

  /** Removes every fault: dials held connections and delivers held bytes now. */
  heal(): void {
    this.faults.blackholed = false;
    this.faults.latencyMs = 0;
    for (const connection of this.connections) connection.resume();
  }

  /** Stops listening and resets every connection. Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.resetConnections();
    });
    return this.closing;
  }

  /** Same as {@link close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function parseTarget(value: string): { host: string; port: number; scheme: string | undefined } {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
  let url: URL | undefined;
  try {
    url = new URL(withScheme ? value : `tcp://${value}`);
  } catch {
    url = undefined;
  }
  const port = Number(url?.port);
  const host = url?.hostname.replace(/^\[(.*)\]$/, "$1") ?? "";
  const plain = url !== undefined && (withScheme || (url.pathname === "" && url.search === ""));
  if (
    url === undefined ||
    !plain ||
    host === "" ||
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65_535
  ) {
    throw new TestingSetupError(
      "invalid-option",
      `target must be "host:port" or a URL with a port such as "http://127.0.0.1:2379", got ${JSON.stringify(value)}`,
    );
  }
  return { host, port, scheme: withScheme ? url.protocol : undefined };
}
