// The wire probe: where does a delete seen through an etcd watch spend its time? One run,
// interleaved round by round, of a delete on one client seen by a watch on another, with the
// deleting side and the watching side each the etcd3 package, a bare @grpc/grpc-js client on
// etcd's protos, or etcd's Go client (a process of its own, bench/etcd/wire-go.ts). Every
// delete is seen by the Go watch as well, so each round carries its own reference, and times
// are taken on the wall clock, which both processes share:
//
// - Go → Go is the floor;
// - Node → Go, minus the floor, is the sending side's cost;
// - Go → Node, minus Go → Go of the same round, is the receiving side's cost.
//
// Each client has its own connection, as it would in separate processes (grpc-js otherwise
// shares one connection between all clients of one target and options in a process).
//
// Run: TSX_TSCONFIG_PATH=tsconfig.test.json pnpm exec tsx bench/etcd/wire.ts
// Environment: ROUNDS (default 200); WIRE_IDLE_MS (default "0,250"): the pauses between the
// put and the delete, how long client and server were idle; BENCH_SERVERS=local for a local
// etcd process, BENCH_ETCD_ENDPOINTS for yours (bench/servers.ts).
import { connect, constants as http2 } from "node:http2";
import { Etcd3, type Watcher } from "etcd3";
import { etcdServer } from "../servers.js";
import { delay, machine, ms, percentile, table } from "../stats.js";
import { goWire, wallMs } from "./wire-go.js";
import { etcdserverpb, grpc, type Loaded, ownConnection } from "./wire-grpc.js";

const rounds = Number(process.env.ROUNDS ?? 200);
const warmup = 20;
const idles = (process.env.WIRE_IDLE_MS ?? "0,250").split(",").map(Number);

/** A side that writes: resolves with the wall-clock times of the call and its answer. */
interface Writer {
  readonly name: string;
  command(verb: "put" | "del", key: string): Promise<{ call: number; answer: number }>;
  close(): Promise<void> | void;
}

/** A Node side that watches a prefix and reports each delete with its wall-clock time. */
interface NodeWatch {
  readonly name: string;
  readonly prefix: string;
  seen?: ((key: string, at: number) => void) | undefined;
  close(): Promise<void>;
}

async function timed(run: () => Promise<unknown>): Promise<{ call: number; answer: number }> {
  const call = wallMs();
  await run();
  return { call, answer: wallMs() };
}

function etcd3Writer(endpoints: string[]): Writer {
  const client = new Etcd3({ hosts: endpoints, grpcOptions: ownConnection });
  return {
    name: "etcd3",
    command: (verb, key) =>
      timed(() =>
        verb === "put" ? client.put(key).value("x").exec() : client.delete().key(key).exec(),
      ),
    close: () => client.close(),
  };
}

function grpcWriter(endpoints: string[]): Writer {
  const kv = new etcdserverpb.KV(endpoints[0], grpc.credentials.createInsecure(), ownConnection);
  const call = (method: string, request: object) =>
    new Promise<void>((resolve, reject) =>
      kv[method](request, (error: Error | null) => (error ? reject(error) : resolve())),
    );
  return {
    name: "grpc-js",
    command: (verb, key) =>
      timed(() =>
        verb === "put"
          ? call("Put", { key: Buffer.from(key), value: Buffer.from("x") })
          : call("DeleteRange", { key: Buffer.from(key) }),
      ),
    close: () => kv.close(),
  };
}

/** One gRPC message: the compressed flag, the length, the bytes. */
function grpcFrame(message: Buffer): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/** A protobuf length-delimited field (wire type 2) with a number below 16 and bytes below 128. */
function bytesField(field: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, value.length]), value]);
}

/** The gRPC request headers of `method`. */
function grpcHeaders(method: string) {
  return {
    [http2.HTTP2_HEADER_METHOD]: "POST",
    [http2.HTTP2_HEADER_PATH]: method,
    [http2.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
    [http2.HTTP2_HEADER_TE]: "trailers",
  };
}

/**
 * Node's http2 with no grpc-js: the request hand-encoded, the answer read to its trailers.
 * Tells grpc-js's cost from Node's own.
 */
function http2Writer(endpoints: string[]): Writer {
  const session = connect(`http://${endpoints[0]}`);
  session.on("error", () => {});
  const unary = (method: string, message: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const stream = session.request(grpcHeaders(method));
      stream.on("trailers", (trailers) =>
        trailers["grpc-status"] === "0"
          ? resolve()
          : reject(new Error(`${method}: ${trailers["grpc-message"]}`)),
      );
      stream.on("error", reject);
      stream.resume();
      stream.end(grpcFrame(message));
    });
  return {
    name: "http2",
    command: (verb, key) =>
      timed(() =>
        verb === "put"
          ? unary(
              "/etcdserverpb.KV/Put",
              Buffer.concat([bytesField(1, Buffer.from(key)), bytesField(2, Buffer.from("x"))]),
            )
          : unary("/etcdserverpb.KV/DeleteRange", bytesField(1, Buffer.from(key))),
      ),
    close: () => session.close(),
  };
}

async function http2Watch(endpoints: string[], prefix: string): Promise<NodeWatch> {
  const decode = etcdserverpb.Watch.service.Watch.responseDeserialize as (b: Buffer) => Loaded;
  const session = connect(`http://${endpoints[0]}`);
  session.on("error", () => {});
  const stream = session.request(grpcHeaders("/etcdserverpb.Watch/Watch"));
  stream.on("error", () => {});
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] as number) + 1;
  const watch: NodeWatch = {
    name: "http2",
    prefix,
    async close() {
      stream.close();
      session.close();
    },
  };
  let pending: Buffer = Buffer.alloc(0);
  const created = new Promise<void>((resolve) => {
    stream.on("data", (chunk: Buffer) => {
      const at = wallMs();
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
        const length = pending.readUInt32BE(1);
        const response = decode(pending.subarray(5, 5 + length));
        pending = pending.subarray(5 + length);
        if (response.created) resolve();
        for (const event of response.events) {
          if (event.type === "Delete") watch.seen?.(event.kv.key.toString(), at);
        }
      }
    });
  });
  const range = Buffer.concat([bytesField(1, Buffer.from(prefix)), bytesField(2, end)]);
  stream.write(grpcFrame(bytesField(1, range)));
  await created;
  return watch;
}

async function etcd3Watch(endpoints: string[], prefix: string): Promise<NodeWatch> {
  const client = new Etcd3({ hosts: endpoints, grpcOptions: ownConnection });
  const watcher: Watcher = await client.watch().prefix(prefix).create();
  const watch: NodeWatch = {
    name: "etcd3",
    prefix,
    async close() {
      await watcher.cancel();
      client.close();
    },
  };
  watcher.on("delete", (kv) => watch.seen?.(kv.key.toString(), wallMs()));
  return watch;
}

async function grpcWatch(endpoints: string[], prefix: string): Promise<NodeWatch> {
  const client = new etcdserverpb.Watch(
    endpoints[0],
    grpc.credentials.createInsecure(),
    ownConnection,
  );
  const stream = client.Watch();
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] as number) + 1;
  const watch: NodeWatch = {
    name: "grpc-js",
    prefix,
    async close() {
      stream.cancel();
      client.close();
    },
  };
  const created = new Promise<void>((resolve) => {
    stream.on("data", (response: Loaded) => {
      const at = wallMs();
      if (response.created) resolve();
      for (const event of response.events) {
        // etcd3's rpc.proto names the event types Put and Delete.
        if (event.type === "Delete") watch.seen?.(event.kv.key.toString(), at);
      }
    });
  });
  stream.on("error", () => {});
  stream.write({ create_request: { key: Buffer.from(prefix), range_end: end } });
  await created;
  return watch;
}

/** Resolves with the wall-clock time at which `key`'s delete is reported. */
function deleteSeen(
  subscribe: (listener: ((key: string, at: number) => void) | undefined) => void,
  key: string,
): Promise<number> {
  return new Promise((resolve) =>
    subscribe((seen, at) => {
      if (seen === key) {
        subscribe(undefined);
        resolve(at);
      }
    }),
  );
}

async function main(): Promise<void> {
  await using etcd = await etcdServer();
  // host:port, as grpc-js and node:http2 are given it below (a container's has a scheme).
  const endpoints = [etcd.address.replace(/^https?:\/\//, "")];
  const root = `wire-${Date.now()}/`;
  const go = await goWire(endpoints, root);
  if (go === undefined) throw new Error("the probe needs the Go client");
  const writers: Writer[] = [
    { name: "Go", command: (verb, key) => go.command(verb, key), close: () => {} },
    etcd3Writer(endpoints),
    grpcWriter(endpoints),
    http2Writer(endpoints),
  ];
  const watches = [
    await etcd3Watch(endpoints, `${root}etcd3/`),
    await grpcWatch(endpoints, `${root}grpc-js/`),
    await http2Watch(endpoints, `${root}http2/`),
  ];

  const samples = new Map<string, number[]>();
  const add = (name: string, value: number) =>
    samples.set(name, [...(samples.get(name) ?? []), value]);
  for (let round = 0; round < warmup + rounds; round++) {
    for (const idle of idles) {
      for (const writer of writers) {
        for (const watch of watches) {
          const key = `${watch.prefix}${round}-${writer.name}-${idle}`;
          await writer.command("put", key);
          if (idle > 0) await delay(idle);
          const byGo = deleteSeen((listener) => go.onDelete(listener), key);
          const byNode = deleteSeen((listener) => {
            watch.seen = listener;
          }, key);
          const { call, answer } = await writer.command("del", key);
          const [goAt, nodeAt] = await Promise.all([byGo, byNode]);
          if (round < warmup) continue;
          const at = `${idle} ms idle`;
          add(`${at}\u0000${writer.name} → Go`, goAt - call);
          add(`${at}\u0000${writer.name} → ${watch.name}`, nodeAt - call);
          add(`${at}\u0000${writer.name} delete answered`, answer - call);
          if (writer.name === "Go") add(`${at}\u0000${watch.name} after Go watch`, nodeAt - goAt);
        }
      }
    }
  }
  await go.close();
  for (const each of [...writers, ...watches]) await each.close();

  console.log(`delete → watch event on ${etcd.description}, ${etcd.address}`);
  console.log(machine());
  const rows = [...samples].map(([name, values]) => {
    const [at, what] = name.split("\u0000") as [string, string];
    const floor = percentile(samples.get(`${at}\u0000Go → Go`) ?? [], 50);
    return [
      at,
      what,
      String(values.length),
      ms(percentile(values, 50)),
      ms(percentile(values, 99)),
      what.includes("after") ? "–" : `${(percentile(values, 50) / floor).toFixed(2)}×`,
    ];
  });
  console.log(table(["idle", "delete → event", "n", "p50 ms", "p99 ms", "p50 / Go → Go"], rows));
}

await main();
