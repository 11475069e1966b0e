import { describeConfig, resolveConfig, resolveElectorOptions } from "./config/resolve.js";
import type {
  ElectorConfig,
  ElectorOptions,
  ResolvedConfig,
  ResolvedEtcdConfig,
  ResolvedZooKeeperConfig,
} from "./config/types.js";
import type { Elector } from "./elector.js";
import { BackendNotInstalledError, InvalidOptionError } from "./errors.js";
import { type Logger, silentLogger } from "./logger.js";
import { MemoryElector } from "./memory/memory-elector.js";

/** The options a backend package receives: validated, with the logger bound. */
export interface BackendElectorOptions {
  /** The election's name, validated. */
  readonly election: string;
  /** The candidate's id, validated or generated. */
  readonly id: string;
  /** Already bound to `{ election, id, backend }`. */
  readonly logger: Logger;
}

/**
 * What a backend package exports for {@link createElector} to load it by name.
 *
 * @typeParam C the backend's resolved configuration.
 */
export interface BackendModule<C extends ResolvedConfig> {
  /** Opens an elector on this backend with a validated configuration. */
  openElector(config: C, options: BackendElectorOptions): Promise<Elector>;
}

const packages = { etcd: "@elector/etcd", zookeeper: "@elector/zookeeper" } as const;

/**
 * Creates an elector on the backend that `target` names: a URL (`memory://`, `etcd://…`,
 * `etcds://…`, `zk://…`) or a configuration object. The etcd and ZooKeeper packages are
 * loaded only when chosen, so an app installs only the one it uses.
 *
 * @throws InvalidOptionError when an option is wrong; the message names it and its value.
 * @throws BackendNotInstalledError when the chosen backend's package is not installed.
 *
 * @example
 * ```ts
 * const elector = await createElector(process.env.ELECTOR_URL ?? "memory://", {
 *   election: "billing-cron",
 *   id: "worker-7",
 * });
 * ```
 */
export async function createElector(
  target: string | ElectorConfig,
  options: ElectorOptions,
): Promise<Elector> {
  const config = resolveConfig(target);
  const resolved = resolveElectorOptions(options);
  const logger = (resolved.logger ?? silentLogger).child({
    election: resolved.election,
    id: resolved.id,
    backend: config.backend,
  });
  logger.debug({ config: describeConfig(config) }, "creating elector");
  const backendOptions = { election: resolved.election, id: resolved.id, logger };
  switch (config.backend) {
    case "memory":
      return new MemoryElector(config, backendOptions);
    case "etcd": {
      const backend = await loadBackend<ResolvedEtcdConfig>("etcd");
      return backend.openElector(config, backendOptions);
    }
    case "zookeeper": {
      const backend = await loadBackend<ResolvedZooKeeperConfig>("zookeeper");
      return backend.openElector(config, backendOptions);
    }
  }
}

async function loadBackend<C extends ResolvedConfig>(
  backend: keyof typeof packages,
): Promise<BackendModule<C>> {
  const packageName: string = packages[backend];
  let module: Partial<BackendModule<C>>;
  try {
    // A variable specifier: bundlers and tsc must not pull the backend in when it is unused.
    module = (await import(packageName)) as Partial<BackendModule<C>>;
  } catch (error) {
    if (isModuleNotFound(error, packageName))
      throw new BackendNotInstalledError(backend, packageName, error);
    throw error;
  }
  if (typeof module.openElector !== "function") {
    throw new InvalidOptionError(
      "backend",
      backend,
      `a backend whose package ${packageName} exports openElector()`,
    );
  }
  return module as BackendModule<C>;
}

function isModuleNotFound(error: unknown, packageName: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : "";
  return (
    (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    message.includes(packageName)
  );
}
