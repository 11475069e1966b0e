export {
  FenceStoreError,
  FencingError,
  type FencingErrorCode,
  InvalidFencingOptionError,
  InvalidFencingTokenError,
  isFenceStoreError,
  isFencingError,
  isInvalidFencingTokenError,
  isRetryableFencingError,
  isStaleLeaderError,
  isStaleTokenError,
  StaleLeaderError,
  StaleTokenError,
} from "./errors.js";
export type {
  EtcdClient,
  EtcdComparator,
  EtcdCompareTarget,
  EtcdKeyValue,
  EtcdMultiRange,
  EtcdOperation,
  EtcdPut,
  EtcdRangeResponse,
  EtcdResponseOp,
  EtcdSingleRange,
  EtcdTransaction,
  EtcdTxnResponse,
} from "./etcd-client.js";
export { type EtcdAdmitOptions, EtcdFence, type EtcdFenceOptions } from "./etcd-fence.js";
export {
  type GuardedTxnOptions,
  guardedTxn,
  type LeaderGuard,
  type LeaderKeyGuard,
  type LeaderPrefixGuard,
} from "./etcd-guard.js";
export type { Fence, FenceCallOptions } from "./fence.js";
export {
  admittedToken,
  FENCING_TOKEN_HEADER,
  type FencingMiddleware,
  type FencingMiddlewareOptions,
  type FencingRefusal,
  fencingHeaders,
  fencingMiddleware,
  staleTokenErrorFromResponse,
  withFencing,
} from "./http.js";
export { MemoryFence } from "./memory-fence.js";
export {
  type PgPool,
  type PgPoolClient,
  type PgQueryable,
  type PgResult,
  PostgresFence,
  type PostgresFenceOptions,
  type PostgresTransactionOptions,
} from "./postgres-fence.js";
export { FencingToken } from "./token.js";
