export { CandidateKeyLostError } from "./candidate-key.js";
export { etcdClientOptions } from "./client.js";
export {
  createEtcdElector,
  EtcdElector,
  type EtcdElectorOptions,
  openElector,
} from "./etcd-elector.js";
export { type ElectionKeys, electionKeys, type KeyRange, leaseHex } from "./keys.js";
