// A TCP proxy in front of ZooKeeper that reads the client's requests as they pass: to see on
// the wire what a client sends after a reconnect, to lose the reply of one request, and to
// move the client to another server.
import { createServer, type Server, Socket } from "node:net";

/** ZooKeeper's request opcodes that the tests look for. */
export const opcodes = Object.freeze({
  create: 1,
  exists: 3,
  getData: 4,
  getChildren: 8,
  sync: 9,
  getChildren2: 12,
});

/** One request a client sent through the tap. */
export interface TappedRequest {
  /** Counts the client's connections through the tap, from 1. */
  readonly connection: number;
  readonly opcode: number;
  /** The request's path, for requests that start with one. */
  readonly path: string | undefined;
}

const pathless = new Set([-11, 11, 101, 100]); // close, ping, setWatches, auth

/** A request of `opcode` whose path starts with `prefix`: its reply is never delivered. */
interface Trap {
  readonly opcode: number;
  readonly prefix: string;
  readonly sprung: () => void;
}

/**
 * Relays each client connection to the current target (`host:port`), and records every
 * request after the connect handshake (the first frame of a connection).
 */
export class RequestTap implements AsyncDisposable {
  readonly requests: TappedRequest[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #target: string;
  #connections = 0;
  #trap: Trap | undefined;

  private constructor(server: Server, target: string) {
    this.#server = server;
    this.#target = target;
  }

  static async start(target: string): Promise<RequestTap> {
    const server = createServer();
    const tap = new RequestTap(server, target);
    server.on("connection", (client) => tap.#relay(client));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return tap;
  }

  /** `127.0.0.1:<port>`, for the client's connect string. */
  get endpoint(): string {
    const address = this.#server.address();
    if (address === null || typeof address === "string") throw new Error("not listening");
    return `127.0.0.1:${address.port}`;
  }

  /**
   * Resolves once a request of `opcode` whose path starts with `prefix` has been passed to
   * the server; from then on, that connection delivers nothing more to the client.
   */
  trap(opcode: number, prefix: string): Promise<void> {
    return new Promise((resolve) => {
      this.#trap = { opcode, prefix, sprung: resolve };
    });
  }

  /** New connections go to `target`; open ones are cut, as when a server goes away. */
  moveTo(target: string): void {
    this.#target = target;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  #relay(client: Socket): void {
    const connection = ++this.#connections;
    const [host, port] = splitHostPort(this.#target);
    const upstream = new Socket();
    upstream.connect(port, host);
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    let deliver = true;
    let handshake = true;
    let pending = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const length = pending.readInt32BE(0);
        if (pending.length < 4 + length) break;
        const frame = pending.subarray(4, 4 + length);
        pending = pending.subarray(4 + length);
        upstream.write(Buffer.concat([lengthOf(length), frame]));
        if (handshake) {
          handshake = false;
          continue;
        }
        const request = parseRequest(connection, frame);
        this.requests.push(request);
        const trap = this.#trap;
        if (
          trap !== undefined &&
          request.opcode === trap.opcode &&
          request.path?.startsWith(trap.prefix) === true
        ) {
          this.#trap = undefined;
          deliver = false;
          trap.sprung();
        }
      }
    });
    upstream.on("data", (chunk: Buffer) => {
      if (deliver) client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on("close", close);
    upstream.on("close", close);
    client.on("error", close);
    upstream.on("error", close);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function lengthOf(length: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(length);
  return prefix;
}

/** A request frame: xid, opcode, then, for most requests, the path as a jute ustring. */
function parseRequest(connection: number, frame: Buffer): TappedRequest {
  const opcode = frame.readInt32BE(4);
  if (pathless.has(opcode) || frame.length < 12) return { connection, opcode, path: undefined };
  const length = frame.readInt32BE(8);
  const path = length >= 0 ? frame.toString("utf8", 12, 12 + length) : undefined;
  return { connection, opcode, path };
}

function splitHostPort(target: string): [string, number] {
  const at = target.lastIndexOf(":");
  return [target.slice(0, at), Number(target.slice(at + 1))];
}
