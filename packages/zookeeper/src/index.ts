export {
  ZooKeeperConnectionError,
  ZooKeeperRequestError,
  ZooKeeperSequenceExhaustedError,
} from "./errors.js";
export {
  createZooKeeperElector,
  openElector,
  ZooKeeperElector,
  type ZooKeeperElectorOptions,
} from "./zookeeper-elector.js";
