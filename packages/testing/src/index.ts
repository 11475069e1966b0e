export { dockerAddress } from "./docker.js";
export { isTestingSetupError, TestingSetupError, type TestingSetupErrorCode } from "./errors.js";
export { EtcdCluster, StartedEtcdCluster, StartedEtcdMember } from "./etcd-cluster.js";
export {
  EtcdContainer,
  type EtcdTiming,
  type ResolvedEtcdTiming,
  StartedEtcdContainer,
} from "./etcd-container.js";
export { FaultProxy, type FaultProxyOptions } from "./fault-proxy.js";
export {
  defaultImages,
  imageVariables,
  type ResolvedImage,
  resolveImage,
  type ServerKind,
} from "./images.js";
export { ownerLabel } from "./labels.js";
export {
  PostgreSqlContainer,
  StartedPostgreSqlContainer,
} from "./postgresql-container.js";
export { preflight, type RemovedLeftovers, removeLeftovers } from "./preflight.js";
export { ServerBuilder } from "./server-builder.js";
export {
  type RestartOptions,
  StartedServerContainer,
  type StopOptions,
} from "./started-server-container.js";
export {
  type ResolvedZooKeeperTiming,
  StartedZooKeeperContainer,
  ZooKeeperContainer,
  type ZooKeeperMode,
  type ZooKeeperTiming,
} from "./zookeeper-container.js";
export {
  StartedZooKeeperEnsemble,
  StartedZooKeeperServer,
  ZooKeeperEnsemble,
} from "./zookeeper-ensemble.js";
