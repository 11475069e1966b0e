// The entry point for backend packages (`@elector/core/backend`): what a driver implements
// and the parts of core it builds on. Apps import `@elector/core` instead.

export {
  type BackendElectorOptions,
  type BoundElector,
  type ResolvedConfigOf,
  resolveAndBind,
} from "./bind-elector.js";
export { describeConfig } from "./config/resolve.js";
export type {
  ResolvedConfig,
  ResolvedEtcdConfig,
  ResolvedMemoryConfig,
  ResolvedZooKeeperConfig,
} from "./config/types.js";
export type { BackendModule } from "./create-elector.js";
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
export { delay, type LinkedSignal, linkSignals, raceSignal } from "./signals.js";
