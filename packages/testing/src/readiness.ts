import { setTimeout as delay } from "node:timers/promises";
import type { ContainerRuntimeClient, ExecResult, WaitStrategy } from "testcontainers";
import { messageOf, TestingSetupError } from "./errors.js";

/** Dockerode's container handle, named without depending on dockerode's types directly. */
export type DockerContainer = ReturnType<ContainerRuntimeClient["container"]["getById"]>;

/** What a readiness probe may use: the published endpoint, exec and the server log. */
export interface ProbeTarget {
  /** The address that reaches the published port; see `StartedServerContainer.getHost`. */
  readonly host: string;
  /** The host port that the server's main port is published on. */
  readonly port: number;
  exec(command: readonly string[]): Promise<ExecResult>;
  logs(): Promise<string>;
  /** Why waiting is pointless (the container exited), or `undefined` while it may still come up. */
  exited(): Promise<string | undefined>;
}

/**
 * Resolves when the server answers as it should, rejects with the reason otherwise. Called
 * again and again until it resolves or the deadline passes; `signal` ends one attempt.
 */
export type Probe = (target: ProbeTarget, signal: AbortSignal) => Promise<void>;

/** How often a probe runs while waiting; short, as each attempt is a local round trip. */
const probeIntervalMs = 200;
/** The longest a single probe attempt may take before the next one starts. */
const attemptTimeoutMs = 3_000;

/** A {@link ProbeTarget} over one container, through the testcontainers client. */
export function probeTarget(
  client: ContainerRuntimeClient,
  container: DockerContainer,
  host: string,
  port: number,
): ProbeTarget {
  return {
    host,
    port,
    exec: (command) => client.container.exec(container, [...command]),
    logs: () => readLogs(container),
    exited: async () => {
      const { State } = await container.inspect();
      return State.Running ? undefined : `the container exited with code ${State.ExitCode}`;
    },
  };
}

/**
 * Runs `probe` until it resolves, at most `timeoutMs`.
 *
 * @param what names the server in the message, for example `etcd member etcd-2`.
 * @throws TestingSetupError `not-ready` (or `code`) with the last probe failure and the end
 * of the server log.
 */
export async function pollUntilReady(
  target: ProbeTarget,
  probe: Probe,
  options: { timeoutMs: number; what: string; code?: "not-ready" | "start-failed" },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  let exited: string | undefined;
  for (;;) {
    const remaining = deadline - Date.now();
    try {
      await probe(target, AbortSignal.timeout(Math.max(1, Math.min(attemptTimeoutMs, remaining))));
      return;
    } catch (error) {
      lastError = error;
    }
    // A server that exited will not answer: say so now rather than at the deadline.
    exited = await target.exited().catch(() => undefined);
    if (exited !== undefined || Date.now() + probeIntervalMs >= deadline) break;
    await delay(probeIntervalMs);
  }
  const tail = await target.logs().then(
    (text) => lastLines(text, 15),
    (error: unknown) => `(its log could not be read: ${messageOf(error)})`,
  );
  const why = exited ?? `it did not become ready within ${options.timeoutMs} ms`;
  throw new TestingSetupError(
    options.code ?? "not-ready",
    `${options.what} is not serving: ${why}; last check: ${messageOf(lastError)}\n--- last lines of its log ---\n${tail}`,
    { cause: lastError },
  );
}

/**
 * A testcontainers wait strategy that runs a {@link Probe}, so that start and restart wait
 * for the same thing, and a failed start reports the server's own log.
 */
export class ProbeWaitStrategy implements WaitStrategy {
  private timeoutMs = 60_000;
  private timeoutSet = false;

  constructor(
    private readonly client: ContainerRuntimeClient,
    private readonly host: string,
    private readonly port: number,
    private readonly probe: Probe,
    private readonly what: string,
  ) {}

  async waitUntilReady(container: DockerContainer): Promise<void> {
    await pollUntilReady(probeTarget(this.client, container, this.host, this.port), this.probe, {
      timeoutMs: this.timeoutMs,
      what: this.what,
      code: "start-failed",
    });
  }

  withStartupTimeout(startupTimeoutMs: number): this {
    this.timeoutMs = startupTimeoutMs;
    this.timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }

  getStartupTimeout(): number {
    return this.timeoutMs;
  }
}

/** The whole log of a container, standard output and standard error interleaved. */
export async function readLogs(container: DockerContainer): Promise<string> {
  const raw = await container.logs({ stdout: true, stderr: true, follow: false });
  return demultiplex(raw);
}

// Without a TTY, Docker frames each chunk: 1 byte stream id, 3 bytes zero, 4 bytes length.
function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const stream = raw[offset];
    const length = raw.readUInt32BE(offset + 4);
    if ((stream !== 0 && stream !== 1 && stream !== 2) || offset + 8 + length > raw.length) {
      // Not framed after all (a TTY container): the bytes are the text.
      return raw.toString("utf8");
    }
    parts.push(raw.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return Buffer.concat(parts).toString("utf8");
}

function lastLines(text: string, count: number): string {
  const lines = text.trimEnd().split("\n");
  return lines.slice(-count).join("\n") || "(empty)";
}
