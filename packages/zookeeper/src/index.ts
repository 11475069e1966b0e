export {
  ZooKeeperConnectionError,
  ZooKeeperRequestError,
  ZooKeeperSequenceExhaustedError,
  ZooKeeperStaleLeaderError,
} from "./errors.js";
export {
  createZooKeeperElector,
  openElector,
  ZooKeeperElector,
  type ZooKeeperElectorOptions,
  type ZooKeeperOp,
  type ZooKeeperOpResult,
} from "./zookeeper-elector.js";
