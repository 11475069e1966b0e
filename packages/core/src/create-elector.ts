import { type BackendElectorOptions, resolveAndBind } from "./bind-elector.js";
import type {
  ElectorConfig,
  ElectorOptions,
  ResolvedConfig,
  ResolvedEtcdConfig,
  ResolvedZooKeeperConfig,
} from "./config/types.js";
import type { Elector } from "./elector.js";
import { BackendNotInstalledError, InvalidOptionError } from "./errors.js";
import { MemoryElector } from "./memory/memory-elector.js";

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
  const { config, options: backendOptions } = resolveAndBind(target, options);
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
