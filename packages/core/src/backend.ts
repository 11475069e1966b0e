// The entry point for backend packages (`@elector/core/backend`): what a driver implements
// and the parts of core it builds on. Apps import `@elector/core` instead.
export type { BackendElectorOptions, BackendModule } from "./create-elector.js";
export { DrivenElector, type DrivenElectorOptions } from "./driven-elector.js";
export {
  type CampaignRequest,
  type DriverContext,
  type ElectedTerm,
  type ElectionDriver,
  type LeaderListener,
  now,
  type TermControl,
} from "./driver.js";
export {
  describeConfig,
  type ResolvedConfig,
  type ResolvedEtcdConfig,
  type ResolvedMemoryConfig,
  type ResolvedZooKeeperConfig,
} from "./options.js";
export { delay, type LinkedSignal, linkSignals, raceSignal } from "./signals.js";
