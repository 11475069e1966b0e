// grpc-js and etcd's protos for the wire probes (wire.ts, wire-send.ts), loaded as etcd3
// itself loads them (the same versions on both sides, and no dependency of ours), untyped:
// the probes call the services that they load at run time.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

// biome-ignore lint/suspicious/noExplicitAny: a probe over dynamically loaded services.
export type Loaded = any;

const etcd3Require = createRequire(createRequire(import.meta.url).resolve("etcd3"));
export const grpc: Loaded = etcd3Require("@grpc/grpc-js");
const protoLoader: Loaded = etcd3Require("@grpc/proto-loader");
const protoDir = join(dirname(etcd3Require.resolve("etcd3/package.json")), "proto");

/** etcd's `etcdserverpb` package: `KV`, `Watch`, … */
export const etcdserverpb: Loaded = grpc.loadPackageDefinition(
  protoLoader.loadSync(join(protoDir, "rpc.proto"), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  }),
).etcdserverpb;

/** A connection of its own for each client, as separate processes would have. */
export const ownConnection = { "grpc.use_local_subchannel_pool": 1 };
