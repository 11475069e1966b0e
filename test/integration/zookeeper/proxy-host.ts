// FaultProxy instances in a child process. The zookeeper binding's close() is synchronous:
// while connected it waits (up to 1.5 s) for the server to confirm the session's end. With
// the proxy in the test's own event loop, that answer cannot be relayed while the loop is
// blocked, so every close would freeze the test process for 1.5 s, and the other electors'
// C clients would time out meanwhile. In a process of its own, the proxy keeps relaying.
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("./proxy-host-process.ts", import.meta.url));
const tsconfig = fileURLToPath(new URL("../../../tsconfig.test.json", import.meta.url));

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly proxy?: number;
  readonly endpoint?: string;
}

/** One proxy in the host: the faults of FaultProxy, asynchronous. */
export class RemoteFaultProxy {
  constructor(
    private readonly host: ProxyHost,
    private readonly handle: number,
    /** Where a client connects instead of the target: `127.0.0.1:PORT`. */
    readonly endpoint: string,
  ) {}

  /** Lets nothing through, either way, until {@link heal}. */
  async blackhole(): Promise<void> {
    await this.host.send({ command: "blackhole", proxy: this.handle });
  }

  /** Removes every fault; held bytes are delivered at once. */
  async heal(): Promise<void> {
    await this.host.send({ command: "heal", proxy: this.handle });
  }

  /** Delays every chunk by `ms` each way. */
  async latency(ms: number): Promise<void> {
    await this.host.send({ command: "latency", proxy: this.handle, ms });
  }

  /** Resets every open connection. */
  async resetConnections(): Promise<void> {
    await this.host.send({ command: "reset", proxy: this.handle });
  }

  async close(): Promise<void> {
    await this.host.send({ command: "close", proxy: this.handle });
  }
}

/** A child process that runs fault proxies. */
export class ProxyHost implements AsyncDisposable {
  private readonly pending = new Map<number, (reply: Reply) => void>();
  private nextId = 0;

  private constructor(private readonly child: ChildProcess) {
    child.on("message", (reply: Reply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
  }

  static async start(): Promise<ProxyHost> {
    const child = fork(script, [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const host = new ProxyHost(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the proxy host did not start")), 30_000);
      host.pending.set(0, () => {
        clearTimeout(timer);
        resolve();
      });
      child.once("exit", (code) => reject(new Error(`the proxy host exited with ${code}`)));
    });
    return host;
  }

  /** A new proxy to `target` (`host:port`). */
  async proxy(target: string): Promise<RemoteFaultProxy> {
    const reply = await this.send({ command: "start", target });
    return new RemoteFaultProxy(this, reply.proxy as number, reply.endpoint as string);
  }

  /** @internal */
  send(request: Record<string, unknown>): Promise<Reply> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (reply) =>
        reply.ok ? resolve(reply) : reject(new Error(reply.error ?? "proxy host failed")),
      );
      this.child.send({ id, ...request });
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}
