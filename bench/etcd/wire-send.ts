// The sending side of bench/etcd/wire.ts, step by step: from a unary delete's call to its
// HTTP/2 stream on the wire, through etcd3, bare grpc-js and bare node:http2, interleaved
// round by round. It wraps Node's ClientHttp2Session.prototype.request, which every one of
// them goes through, to mark when the stream is asked for, when Node has made it, and when
// the request's last byte is handed to it (`end`).
//
// Run: TSX_TSCONFIG_PATH=tsconfig.test.json pnpm exec tsx bench/etcd/wire-send.ts
// Environment: ROUNDS (default 200), WIRE_IDLE_MS (default "0,250"), and the servers of
// bench/servers.ts (BENCH_SERVERS=local, BENCH_ETCD_ENDPOINTS).
import { type ClientHttp2Session, type ClientHttp2Stream, connect } from "node:http2";
import { Etcd3 } from "etcd3";
import { etcdServer } from "../servers.js";
import { delay, machine, ms, percentile, table } from "../stats.js";
import { etcdserverpb, grpc, ownConnection } from "./wire-grpc.js";

const rounds = Number(process.env.ROUNDS ?? 200);
const warmup = 20;
const idles = (process.env.WIRE_IDLE_MS ?? "0,250").split(",").map(Number);

/** The steps of one call, in milliseconds from the call; set only while a round is timed. */
let steps: Map<string, number> | undefined;
let started = 0;
const mark = (step: string) => {
  if (steps !== undefined && !steps.has(step)) steps.set(step, performance.now() - started);
};

function instrument(): void {
  const probe = connect("http://127.0.0.1:1");
  probe.on("error", () => {});
  const prototype = Object.getPrototypeOf(probe) as ClientHttp2Session;
  probe.destroy();
  const request = prototype.request;
  prototype.request = function (this: ClientHttp2Session, ...args) {
    mark("stream asked");
    const stream: ClientHttp2Stream = request.apply(this, args);
    mark("stream made");
    const end = stream.end;
    stream.end = function (this: ClientHttp2Stream, ...endArgs: unknown[]) {
      mark("request ended");
      return (end as (...a: unknown[]) => ClientHttp2Stream).apply(this, endArgs);
    } as typeof stream.end;
    return stream;
  } as typeof prototype.request;
}

interface Sender {
  readonly name: string;
  put(key: string): Promise<unknown>;
  delete(key: string): Promise<unknown>;
  close(): void;
}

function senders(endpoint: string): Sender[] {
  const client = new Etcd3({ hosts: [endpoint], grpcOptions: ownConnection });
  const kv = new etcdserverpb.KV(endpoint, grpc.credentials.createInsecure(), ownConnection);
  const unary = (method: string, request: object) =>
    new Promise<void>((resolve, reject) =>
      kv[method](request, (error: Error | null) => (error ? reject(error) : resolve())),
    );
  const session = connect(`http://${endpoint}`);
  session.on("error", () => {});
  const bare = (method: string, message: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const stream = session.request({
        ":method": "POST",
        ":path": method,
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.on("trailers", () => resolve());
      stream.on("error", reject);
      stream.resume();
      const frame = Buffer.alloc(5 + message.length);
      frame.writeUInt32BE(message.length, 1);
      message.copy(frame, 5);
      stream.end(frame);
    });
  const field = (number: number, value: string) =>
    Buffer.concat([Buffer.from([(number << 3) | 2, Buffer.byteLength(value)]), Buffer.from(value)]);
  return [
    {
      name: "etcd3",
      put: (key) => client.put(key).value("x").exec(),
      delete: (key) => client.delete().key(key).exec(),
      close: () => client.close(),
    },
    {
      name: "grpc-js",
      put: (key) => unary("Put", { key: Buffer.from(key), value: Buffer.from("x") }),
      delete: (key) => unary("DeleteRange", { key: Buffer.from(key) }),
      close: () => kv.close(),
    },
    {
      name: "http2",
      put: (key) => bare("/etcdserverpb.KV/Put", Buffer.concat([field(1, key), field(2, "x")])),
      delete: (key) => bare("/etcdserverpb.KV/DeleteRange", field(1, key)),
      close: () => session.close(),
    },
  ];
}

async function main(): Promise<void> {
  await using etcd = await etcdServer();
  instrument();
  // host:port, as grpc-js and node:http2 are given it (a container's has a scheme).
  const all = senders(etcd.address.replace(/^https?:\/\//, ""));
  const prefix = `wire-send-${Date.now()}/`;
  const samples = new Map<string, number[]>();
  for (let round = 0; round < warmup + rounds; round++) {
    for (const idle of idles) {
      for (const sender of all) {
        const key = `${prefix}${round}-${idle}-${sender.name}`;
        await sender.put(key);
        if (idle > 0) await delay(idle);
        steps = new Map();
        started = performance.now();
        const deleting = sender.delete(key);
        mark("call returned");
        await deleting;
        mark("answered");
        const taken = steps;
        steps = undefined;
        if (round < warmup) continue;
        for (const [step, at] of taken) {
          const name = `${idle} ms idle\u0000${sender.name}\u0000${step}`;
          samples.set(name, [...(samples.get(name) ?? []), at]);
        }
      }
    }
  }
  for (const sender of all) sender.close();
  console.log(`a unary delete, step by step, on ${etcd.description}, ${etcd.address}`);
  console.log(machine());
  const rows = [...samples].map(([name, values]) => [
    ...name.split("\u0000"),
    ms(percentile(values, 50)),
    ms(percentile(values, 99)),
  ]);
  console.log(table(["idle", "client", "step", "p50 ms from the call", "p99 ms"], rows));
}

await main();
