import { describeConfig, resolveConfig, resolveElectorOptions } from "./config/resolve.js";
import type { ElectorConfig, ElectorOptions, ResolvedConfig } from "./config/types.js";
import { type Logger, silentLogger } from "./logger.js";

/** The options a backend's elector is built with: validated, with the logger bound. */
export interface BackendElectorOptions {
  /** The election's name, validated. */
  readonly election: string;
  /** The candidate's id, validated or generated. */
  readonly id: string;
  /** Already bound to `{ election, id, backend }`. */
  readonly logger: Logger;
}

/** The resolved configuration of the backend named `B`. */
export type ResolvedConfigOf<B extends ResolvedConfig["backend"]> = Extract<
  ResolvedConfig,
  { readonly backend: B }
>;

/** What {@link resolveAndBind} hands a backend: all it needs to construct its elector. */
export interface BoundElector<C extends ResolvedConfig = ResolvedConfig> {
  /** The configuration, validated, with its defaults, frozen. */
  readonly config: C;
  /** The elector's options, validated, with the logger bound. */
  readonly options: BackendElectorOptions;
}

/**
 * Validates a configuration and an elector's options, applies their defaults, and binds the
 * logger to `{ election, id, backend }`: the step every way of making an elector shares.
 * `createElector()` runs it before it loads the backend; a backend's own factory
 * (`createEtcdElector()`, say) runs it and constructs its elector directly, so that no
 * `instanceof` check across copies of a package is needed.
 *
 * @throws InvalidOptionError naming the first option that is wrong; nothing is started.
 *
 * @example
 * ```ts
 * const { config, options } = resolveAndBind({ backend: "etcd", endpoints }, { election });
 * return new EtcdElector(config, options);
 * ```
 */
export function resolveAndBind<B extends ResolvedConfig["backend"]>(
  target: ElectorConfig & { readonly backend: B },
  options: ElectorOptions,
): BoundElector<ResolvedConfigOf<B>>;
export function resolveAndBind(
  target: string | ElectorConfig,
  options: ElectorOptions,
): BoundElector;
export function resolveAndBind(
  target: string | ElectorConfig,
  options: ElectorOptions,
): BoundElector {
  const config = resolveConfig(target);
  const resolved = resolveElectorOptions(options);
  const logger = (resolved.logger ?? silentLogger).child({
    election: resolved.election,
    id: resolved.id,
    backend: config.backend,
  });
  logger.debug({ config: describeConfig(config) }, "creating elector");
  return { config, options: { election: resolved.election, id: resolved.id, logger } };
}
