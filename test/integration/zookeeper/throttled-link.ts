// A TCP link to one real server with a bandwidth limit, and a cut that can be armed to fall in
// the middle of a reply: what FaultProxy (latency per chunk, no bandwidth limit) cannot do.
import { connect, createServer, type Server, type Socket } from "node:net";

const stepMs = 10;

/**
 * One direction of a link: forwards at most `bytesPerSecond`, in steps of about 10 ms. The
 * budget grows with the time that really passed, so a late timer on a busy machine does not
 * slow the link below its rate.
 */
class Pipe {
  private readonly queue: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastPump = performance.now();

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly link: ThrottledLink,
    private readonly downstream: boolean,
  ) {
    from.on("data", (chunk: Buffer) => {
      this.queue.push(chunk);
      this.pump();
    });
  }

  private pump(): void {
    if (this.timer !== undefined || this.to.destroyed) return;
    const rate = this.link.bytesPerSecond;
    const at = performance.now();
    const elapsedMs = Math.min(Math.max(at - this.lastPump, stepMs), 10 * stepMs);
    this.lastPump = at;
    let budget =
      rate === undefined ? Number.POSITIVE_INFINITY : Math.ceil((rate * elapsedMs) / 1000);
    while (budget > 0 && this.queue.length > 0) {
      const head = this.queue[0] as Buffer;
      let part = head.length <= budget ? head : head.subarray(0, budget);
      const cut = this.downstream ? this.link.takeCut(part.length) : undefined;
      if (cut !== undefined) part = part.subarray(0, cut);
      this.to.write(part);
      if (cut !== undefined) {
        this.link.onCut();
        this.from.destroy();
        this.to.end(() => this.to.destroy());
        return;
      }
      budget -= part.length;
      if (part.length === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(part.length);
    }
    if (this.queue.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, stepMs);
    }
  }
}

/** A proxy to `target` that limits bandwidth both ways and can cut a connection mid-stream. */
export class ThrottledLink implements AsyncDisposable {
  /** Bytes per second each way; undefined: no limit. */
  bytesPerSecond: number | undefined;
  private cutAfter: number | undefined;
  private cuts = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
  ) {}

  static async start(target: string, bytesPerSecond?: number): Promise<ThrottledLink> {
    const [host, port] = [
      target.slice(0, target.lastIndexOf(":")),
      Number(target.slice(target.lastIndexOf(":") + 1)),
    ];
    let link: ThrottledLink | undefined;
    const server = createServer((client) => {
      const upstream = connect({ host, port });
      for (const socket of [client, upstream]) {
        link?.sockets.add(socket);
        socket.setNoDelay(true);
        socket.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
        socket.on("close", () => {
          link?.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      if (link === undefined) return;
      new Pipe(client, upstream, link, false);
      new Pipe(upstream, client, link, true);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    link = new ThrottledLink(server, `127.0.0.1:${address.port}`);
    link.bytesPerSecond = bytesPerSecond;
    return link;
  }

  /** Cuts the connection that carries the `bytes`-th byte from the server from now. */
  armCut(bytes: number): void {
    this.cutAfter = bytes;
  }

  /** How many connections were cut. */
  get cutCount(): number {
    return this.cuts;
  }

  /** @internal How many of `length` bytes may pass before the cut; undefined: all. */
  takeCut(length: number): number | undefined {
    if (this.cutAfter === undefined) return undefined;
    if (length < this.cutAfter) {
      this.cutAfter -= length;
      return undefined;
    }
    const allowed = this.cutAfter;
    this.cutAfter = undefined;
    return allowed;
  }

  /** @internal */
  onCut(): void {
    this.cuts += 1;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
