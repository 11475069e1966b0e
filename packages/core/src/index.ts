export { resolveConfig } from "./config/resolve.js";
export type {
  ElectorConfig,
  ElectorOptions,
  EtcdConfig,
  EtcdTlsConfig,
  MemoryConfig,
  ResolvedConfig,
  ResolvedEtcdConfig,
  ResolvedMemoryConfig,
  ResolvedZooKeeperConfig,
  ZooKeeperConfig,
} from "./config/types.js";
export { parseElectorUrl, redactUrl } from "./config/url.js";
export { maxValueBytes } from "./config/validate.js";
export { createElector } from "./create-elector.js";
export type {
  CampaignOptions,
  Elector,
  LeaderInfo,
  Leadership,
  ObserveOptions,
  Participant,
  ReadOptions,
} from "./elector.js";
export {
  BackendError,
  BackendNotInstalledError,
  CampaignInProgressError,
  ConnectionError,
  ElectorClosedError,
  ElectorError,
  type ElectorErrorCode,
  InvalidOptionError,
  isAbortError,
  isElectorError,
  isInvalidOptionError,
  isLeadershipLostError,
  isRetryableError,
  LeadershipLostError,
  type LossReason,
  lossReasons,
} from "./errors.js";
export type {
  ElectedEvent,
  ElectorEvents,
  LostEvent,
  RenewedEvent,
  ResumedEvent,
  SuspendedEvent,
} from "./events.js";
export { type HealthReport, LeaderHealth, type LeaderHealthOptions } from "./health.js";
export { type BackoffOptions, type LeaderWork, type LeadOptions, lead } from "./lead.js";
export { type LogFn, type Logger, silentLogger } from "./logger.js";
export { createMemoryElector, MemoryElector, type MemoryFaults } from "./memory/memory-elector.js";
