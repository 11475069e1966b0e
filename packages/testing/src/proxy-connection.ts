import { connect, type Socket } from "node:net";

/** The faults a {@link FaultProxy} applies now; read live by every connection. */
export interface ProxyFaults {
  blackholed: boolean;
  latencyMs: number;
}

// Past this many bytes held in one direction, stop reading from the sender, so that a long
// black hole fills the sender's TCP window instead of this process's memory.
const highWaterBytes = 1 << 20;
const lowWaterBytes = 1 << 18;

/**
 * One direction of a proxied connection. Bytes are held, in order, until they are due
 * (latency) and the proxy is not black-holed; never dropped, as TCP under a partition
 * delays bytes but never loses some from the middle of a stream.
 */
class Relay {
  private queue: { chunk: Buffer; due: number }[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private sourceEnded = false;
  private endSent = false;
  private sourcePaused = false;
  private waitingForDrain = false;
  private destination: Socket | undefined;

  constructor(
    private readonly source: Socket,
    private readonly faults: ProxyFaults,
  ) {
    source.on("data", (chunk: Buffer) => this.push(chunk));
    source.on("end", () => {
      this.sourceEnded = true;
      this.pump();
    });
  }

  /** Starts writing to `destination`, now or once the proxy heals. */
  attach(destination: Socket): void {
    this.destination = destination;
    destination.on("drain", () => {
      this.waitingForDrain = false;
      this.pump();
    });
    this.pump();
  }

  /** Makes every held chunk due now: a healed link delivers what it held at once. */
  release(): void {
    for (const item of this.queue) item.due = 0;
    this.clearTimer();
    this.pump();
  }

  /** Writes every due chunk, unless black-holed; then schedules the next one. */
  pump(): void {
    const destination = this.destination;
    if (destination === undefined || destination.destroyed) return;
    if (this.faults.blackholed || this.waitingForDrain) return;
    while (this.queue.length > 0) {
      const head = this.queue[0] as { chunk: Buffer; due: number };
      const wait = head.due - Date.now();
      if (wait > 0) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.queue.shift();
      this.queuedBytes -= head.chunk.length;
      const flushed = destination.write(head.chunk);
      if (this.sourcePaused && this.queuedBytes < lowWaterBytes) {
        this.sourcePaused = false;
        this.source.resume();
      }
      if (!flushed) {
        this.waitingForDrain = true;
        return;
      }
    }
    if (this.sourceEnded && !this.endSent) {
      this.endSent = true;
      destination.end();
    }
  }

  /** Drops what is held; the connection is gone. */
  dispose(): void {
    this.clearTimer();
    this.queue = [];
    this.queuedBytes = 0;
  }

  private push(chunk: Buffer): void {
    this.queue.push({ chunk, due: Date.now() + this.faults.latencyMs });
    this.queuedBytes += chunk.length;
    if (!this.sourcePaused && this.queuedBytes >= highWaterBytes) {
      this.sourcePaused = true;
      this.source.pause();
    }
    this.pump();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * A client's connection through the proxy and, once dialled, its connection to the target.
 * While the proxy is black-holed a new client is accepted but the target is not dialled:
 * under a partition not even the handshake would reach it.
 */
export class ProxyConnection {
  private readonly toTarget: Relay;
  private toClient: Relay | undefined;
  private upstream: Socket | undefined;
  private closed = false;

  constructor(
    private readonly client: Socket,
    private readonly target: { readonly host: string; readonly port: number },
    private readonly faults: ProxyFaults,
    private readonly onClosed: (connection: ProxyConnection) => void,
  ) {
    client.setNoDelay(true);
    this.toTarget = new Relay(client, faults);
    // An error (a reset, usually) on one side is passed on as a reset of the other; a clean
    // close travels as FIN through the relays instead.
    client.on("error", () => this.reset());
    client.on("close", () => this.settle());
    if (!faults.blackholed) this.dial();
  }

  /** Applies the proxy's current faults: dials if it was waiting, delivers what is due. */
  resume(): void {
    if (this.closed || this.faults.blackholed) return;
    this.dial();
    this.toTarget.release();
    this.toClient?.release();
  }

  /** Sends a reset both ways and forgets the connection. */
  reset(): void {
    if (this.closed) return;
    this.closed = true;
    this.toTarget.dispose();
    this.toClient?.dispose();
    this.client.resetAndDestroy();
    this.upstream?.resetAndDestroy();
    this.onClosed(this);
  }

  private dial(): void {
    if (this.upstream !== undefined || this.closed) return;
    const upstream = connect({
      host: this.target.host,
      port: this.target.port,
      allowHalfOpen: true,
    });
    upstream.setNoDelay(true);
    this.upstream = upstream;
    this.toClient = new Relay(upstream, this.faults);
    upstream.on("error", () => this.reset());
    upstream.on("close", () => this.settle());
    // Node buffers writes to a socket that is still connecting.
    this.toTarget.attach(upstream);
    this.toClient.attach(this.client);
  }

  // Both sides done (or one destroyed without error): forget the connection.
  private settle(): void {
    if (this.closed) return;
    const upstreamClosed = this.upstream === undefined || this.upstream.destroyed;
    if (this.client.destroyed && upstreamClosed) {
      this.closed = true;
      this.toTarget.dispose();
      this.toClient?.dispose();
      this.onClosed(this);
    }
  }
}
