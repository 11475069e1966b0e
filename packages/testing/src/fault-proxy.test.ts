import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isTestingSetupError } from "./errors.js";
import { FaultProxy } from "./fault-proxy.js";

// A target that echoes every byte back and counts the connections that reached it.
interface EchoServer {
  readonly server: Server;
  readonly port: number;
  readonly accepted: Socket[];
}

async function startEcho(): Promise<EchoServer> {
  const accepted: Socket[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    accepted.push(socket);
    socket.on("error", () => undefined);
    socket.pipe(socket);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port, accepted };
}

async function open(proxy: FaultProxy): Promise<Socket> {
  const socket = connect({ host: "127.0.0.1", port: proxy.port });
  await once(socket, "connect");
  return socket;
}

// The next `length` bytes the socket receives, or a rejection after `ms`.
function receive(socket: Socket, length: number, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => {
      socket.off("data", onData);
      reject(new Error(`received ${JSON.stringify(text)} of ${length} bytes within ${ms} ms`));
    }, ms);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      if (text.length >= length) {
        clearTimeout(timer);
        socket.off("data", onData);
        resolve(text);
      }
    };
    socket.on("data", onData);
  });
}

describe("FaultProxy", () => {
  let echo: EchoServer;
  let proxy: FaultProxy;
  const sockets: Socket[] = [];
  const client = async (): Promise<Socket> => {
    const socket = await open(proxy);
    socket.on("error", () => undefined);
    sockets.push(socket);
    return socket;
  };

  beforeEach(async () => {
    echo = await startEcho();
    proxy = await FaultProxy.start({ target: `127.0.0.1:${echo.port}` });
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await proxy.close();
    for (const socket of echo.accepted) socket.destroy();
    if (echo.server.listening) echo.server.close();
  });

  it("forwards bytes both ways, at endpoint 127.0.0.1:port", async () => {
    expect(proxy.endpoint).toBe(`127.0.0.1:${proxy.port}`);
    const socket = await client();
    socket.write("ping");
    expect(await receive(socket, 4, 1_000)).toBe("ping");
    expect(proxy.connectionCount).toBe(1);
  });

  it("keeps an http:// target's scheme in its endpoint", async () => {
    await using other = await FaultProxy.start({ target: `http://127.0.0.1:${echo.port}` });
    expect(other.endpoint).toBe(`http://127.0.0.1:${other.port}`);
  });

  it("holds bytes both ways while black-holed, accepts new connections without dialling, and delivers everything on heal()", async () => {
    const held = await client();
    held.write("a");
    expect(await receive(held, 1, 1_000)).toBe("a");
    proxy.blackhole();
    held.write("bc");
    const late = await client();
    late.write("late");
    // Nothing reaches the target, nor comes back, while black-holed.
    await expect(receive(held, 2, 200)).rejects.toThrow("within 200 ms");
    expect(echo.accepted).toHaveLength(1);
    expect(proxy.connectionCount).toBe(2);

    proxy.heal();
    expect(await receive(held, 2, 1_000)).toBe("bc");
    expect(await receive(late, 4, 1_000)).toBe("late");
    expect(echo.accepted).toHaveLength(2);
  });

  it("delays each direction by latency(ms), in order", async () => {
    const socket = await client();
    proxy.latency(150);
    const sent = Date.now();
    socket.write("1");
    socket.write("2");
    expect(await receive(socket, 2, 2_000)).toBe("12");
    expect(Date.now() - sent).toBeGreaterThanOrEqual(290);
  });

  it("resets every connection on resetConnections(), and accepts new ones", async () => {
    const socket = await client();
    socket.write("x");
    await receive(socket, 1, 1_000);
    const reset = once(socket, "error");
    proxy.resetConnections();
    const [error] = (await reset) as [NodeJS.ErrnoException];
    expect(error.code).toBe("ECONNRESET");
    expect(proxy.connectionCount).toBe(0);
    const next = await client();
    next.write("y");
    expect(await receive(next, 1, 1_000)).toBe("y");
  });

  it("passes a half-close on: the target sees the end and may still answer", async () => {
    const socket = await client();
    socket.end("bye");
    expect(await receive(socket, 3, 1_000)).toBe("bye");
    await once(socket, "end");
  });

  it("refuses connections after close()", async () => {
    await proxy.close();
    const socket = connect({ host: "127.0.0.1", port: proxy.port });
    const [error] = (await once(socket, "error")) as [NodeJS.ErrnoException];
    expect(error.code).toBe("ECONNREFUSED");
  });

  it("resets a client whose target refuses it", async () => {
    for (const socket of echo.accepted) socket.destroy();
    await new Promise((resolve) => echo.server.close(resolve));
    const socket = await client();
    const [error] = (await once(socket, "error")) as [NodeJS.ErrnoException];
    expect(error.code).toBe("ECONNRESET");
  });

  it.each(["", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", "http://127.0.0.1", "host:12/path"])(
    "rejects the target %j, naming it",
    async (target) => {
      const error: unknown = await FaultProxy.start({ target }).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(isTestingSetupError(error) && error.code).toBe("invalid-option");
      expect((error as Error).message).toContain(`got ${JSON.stringify(target)}`);
    },
  );

  it("rejects a negative latency, naming it", () => {
    expect(() => proxy.latency(-1)).toThrow(
      "latency ms must be an integer from 0 to 600000, got -1",
    );
  });
});
