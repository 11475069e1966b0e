export { ZooKeeperConnectionError, ZooKeeperRequestError } from "./errors.js";
export {
  createZooKeeperElector,
  openElector,
  ZooKeeperElector,
  type ZooKeeperElectorOptions,
} from "./zookeeper-elector.js";
