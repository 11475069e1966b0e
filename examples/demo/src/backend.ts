import {
  createElector,
  type ElectorConfig,
  parseElectorUrl,
  redactUrl,
  resolveConfig,
} from "@elector/core";

/** Where the demo holds its election, and how its candidates run. */
export interface DemoBackend {
  /** The URL every candidate connects to. */
  readonly url: string;
  /** `etcd`, `zookeeper` or `memory`. */
  readonly name: string;
  /**
   * `processes`: three child processes (a server backend). `memory`: three async workers in
   * this process, since the memory backend shares state only within one JS realm.
   */
  readonly mode: "processes" | "memory";
  /** One line for the top of the timeline: what runs where, and why. */
  readonly description: string;
  /** The leadership TTL, in milliseconds, from which the demo derives every wait. */
  readonly ttlMs: number;
  /** Removes what the demo started (the etcd container). */
  dispose(): Promise<void>;
}

/** The TTL the demo asks for when it picks the backend itself. */
export const demoTtlSeconds = 2;

/** An etcd server the demo started; `@elector/testing`'s `StartedEtcdContainer` fits. */
export interface StartedEtcd {
  getHost(): string;
  getClientPort(): number;
  remove(): Promise<void>;
}

/** How the demo starts etcd, and what it reports when it cannot. */
export interface EtcdStarter {
  /** The image it would start, for the timeline. */
  readonly image: string;
  start(): Promise<StartedEtcd>;
}

/**
 * Picks the backend: `ELECTOR_URL` if set; else an etcd container when a container engine
 * answers; else the in-process memory backend, saying why in one line.
 *
 * @param loadEtcd loads the container module only when needed: an app on memory never pays
 *   for testcontainers.
 */
export async function chooseBackend(
  env: NodeJS.ProcessEnv,
  loadEtcd: () => Promise<EtcdStarter> = defaultEtcd,
): Promise<DemoBackend> {
  const url = env.ELECTOR_URL;
  if (url !== undefined && url !== "") {
    const config = parseElectorUrl(url);
    const memory = config.backend === "memory";
    return {
      url,
      name: config.backend,
      mode: memory ? "memory" : "processes",
      description: memory
        ? `ELECTOR_URL=${redactUrl(url)}: the in-process memory backend, so the three candidates are async workers in this one process (the memory backend shares state only within a process)`
        : `ELECTOR_URL=${redactUrl(url)}: ${config.backend}, three candidates as separate processes`,
      ttlMs: ttlOf(config),
      dispose: async () => {},
    };
  }
  let why: string;
  try {
    const etcd = await loadEtcd();
    const started = await etcd.start();
    return {
      url: `etcd://${started.getHost()}:${started.getClientPort()}?ttl=${demoTtlSeconds}`,
      name: "etcd",
      mode: "processes",
      description: `etcd in a container (${etcd.image}, started through @elector/testing), three candidates as separate processes`,
      ttlMs: demoTtlSeconds * 1_000,
      dispose: () => started.remove(),
    };
  } catch (error) {
    why = oneLine(error instanceof Error ? error.message : String(error));
  }
  return {
    url: `memory://demo-${process.pid}?ttlMs=${demoTtlSeconds * 1_000}`,
    name: "memory",
    mode: "memory",
    description: `no etcd container (${why}): running on the in-process memory backend, with the three candidates as async workers in this one process; set ELECTOR_URL to use a server`,
    ttlMs: demoTtlSeconds * 1_000,
    dispose: async () => {},
  };
}

/**
 * Proves that the backend answers before the candidates start, so that a wrong ELECTOR_URL
 * is one clear error rather than a timeline that waits for a leader in vain.
 *
 * @throws Error naming the URL (its password redacted) and the cause.
 */
export async function checkReachable(backend: DemoBackend, timeoutMs = 10_000): Promise<void> {
  const elector = await createElector(backend.url, { election: "demo-probe" });
  try {
    await elector.leader({ signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const why =
      error instanceof Error && error.name === "TimeoutError"
        ? `no answer within ${timeoutMs / 1_000}s`
        : String(error);
    throw new Error(`cannot reach ${redactUrl(backend.url)}: ${why}`, { cause: error });
  } finally {
    void elector.close().catch(() => {});
  }
}

async function defaultEtcd(): Promise<EtcdStarter> {
  const { EtcdContainer } = await import("@elector/testing");
  const container = new EtcdContainer();
  return { image: container.getImage(), start: () => container.start() };
}

/** The leadership TTL that `config` configures, the backend's default if it sets none. */
export function ttlOf(config: ElectorConfig): number {
  const resolved = resolveConfig(config);
  switch (resolved.backend) {
    case "etcd":
      return resolved.ttlSeconds * 1_000;
    case "zookeeper":
      return resolved.sessionTimeoutMs;
    case "memory":
      return resolved.ttlMs;
  }
}

/** A failure's message as one short line: its first sentence, at most 200 characters. */
function oneLine(message: string): string {
  const flat = message.replace(/\s+/g, " ").trim();
  const cut = flat.search(/; |\. | \(no registry/);
  const sentence = cut === -1 ? flat : flat.slice(0, cut);
  return sentence.length > 200 ? `${sentence.slice(0, 199)}…` : sentence;
}
