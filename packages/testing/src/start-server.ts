import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import {
  type ContainerRuntimeClient,
  GenericContainer,
  type StartedTestContainer,
} from "testcontainers";
import { connectDocker, ensureImage, ensureReaper } from "./docker.js";
import { isTestingSetupError, messageOf, TestingSetupError } from "./errors.js";
import { isPortConflict, releaseHostPort, reserveHostPort } from "./host-port.js";
import type { ResolvedImage } from "./images.js";
import { instanceLabel, ownerLabels } from "./labels.js";
import { type Probe, ProbeWaitStrategy, readLogs } from "./readiness.js";

/** Everything needed to start one server container. */
export interface ServerSpec {
  readonly image: ResolvedImage;
  /** The server's port inside the container; published on a fixed host port. */
  readonly containerPort: number;
  readonly command?: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  /** Answers once the server serves; run after start, restart and on request. */
  readonly probe: Probe;
  /** What the first start waits for, if more than {@link probe}. */
  readonly startProbe?: Probe;
  readonly startupTimeoutMs: number;
  /** Names the server in messages, for example `etcd member etcd-2`. */
  readonly what: string;
  /** A cluster network to join besides Docker's default bridge, under these aliases. */
  readonly network?: { readonly name: string; readonly aliases: readonly string[] };
  /** Host files copied into the container before it starts (certificates, say). */
  readonly files?: readonly { readonly source: string; readonly target: string }[];
  /** Files written into the container before it starts, from their content. */
  readonly contents?: readonly { readonly content: string; readonly target: string }[];
}

/** A started server container and what its Started… class needs to manage it. */
export interface StartedServer {
  readonly client: ContainerRuntimeClient;
  readonly started: StartedTestContainer;
  readonly host: string;
  readonly hostPort: number;
  readonly probe: Probe;
  readonly startupTimeoutMs: number;
  readonly what: string;
}

const maxPortAttempts = 5;

/**
 * The Docker client, with the image ensured; done once before a cluster creates anything,
 * so that a missing engine or image fails before there is anything to clean up.
 */
export async function prepare(image: ResolvedImage): Promise<ContainerRuntimeClient> {
  const client = await connectDocker();
  await ensureImage(client, image);
  await ensureReaper(client);
  return client;
}

/**
 * Starts one server container and waits until its probe answers.
 *
 * The server port is published on a host port chosen here rather than by Docker, so that it
 * stays the same when the container is stopped and started again (Docker would pick a new
 * one). Every failure removes what this call created.
 *
 * @throws TestingSetupError `docker-unavailable`, `image-missing`, `ryuk-unavailable` or
 * `start-failed`.
 */
export async function startServer(
  spec: ServerSpec,
  client?: ContainerRuntimeClient,
): Promise<StartedServer> {
  const docker = client ?? (await prepare(spec.image));
  const host = publishHost(docker);
  for (let attempt = 1; ; attempt += 1) {
    const hostPort = await reserveHostPort(host);
    const instance = randomUUID();
    const container = new ServerContainer(spec.image.name)
      .withName(`elector-${spec.image.kind}-${instance.slice(0, 8)}`)
      .withLabels({ ...ownerLabels(), [instanceLabel]: instance })
      .withPublishedPort(spec.containerPort, host, hostPort)
      .withEnvironment({ ...spec.environment })
      .withWaitStrategy(
        new ProbeWaitStrategy(docker, host, hostPort, spec.startProbe ?? spec.probe, spec.what),
      )
      .withStartupTimeout(spec.startupTimeoutMs);
    if (spec.command !== undefined) container.withCommand([...spec.command]);
    if (spec.files !== undefined) container.withCopyFilesToContainer([...spec.files]);
    if (spec.contents !== undefined) container.withCopyContentToContainer([...spec.contents]);
    if (spec.network !== undefined) {
      // With aliases, testcontainers creates the container on the default bridge (which
      // publishes the port) and joins this network before starting it: a later disconnect
      // cuts the server off from its peers, not from the host.
      container.withNetworkMode(spec.network.name).withNetworkAliases(...spec.network.aliases);
    }
    try {
      const started = await container.start();
      return {
        client: docker,
        started,
        host,
        hostPort,
        probe: spec.probe,
        startupTimeoutMs: spec.startupTimeoutMs,
        what: spec.what,
      };
    } catch (error) {
      releaseHostPort(hostPort);
      // A wait that failed has already reported (and testcontainers removed) the container;
      // any other failure left it behind, perhaps exited, with a log worth showing.
      const evidence = isTestingSetupError(error) ? "" : await describeContainer(docker, instance);
      await removeContainersLabelled(docker, instanceLabel, instance);
      if (isPortConflict(error) && attempt < maxPortAttempts) continue;
      if (isTestingSetupError(error)) throw error;
      throw new TestingSetupError(
        "start-failed",
        `${spec.what} (image ${spec.image.name}) did not start: ${messageOf(error)}${evidence}`,
        { cause: error },
      );
    }
  }
}

/** The state and the end of the log of the container labelled `instance`, if it exists. */
async function describeContainer(
  client: ContainerRuntimeClient,
  instance: string,
): Promise<string> {
  try {
    const [info] = await client.container.dockerode.listContainers({
      all: true,
      filters: { label: [`${instanceLabel}=${instance}`] },
    });
    if (info === undefined) return "";
    const container = client.container.getById(info.Id);
    const { State } = await container.inspect();
    const log = (await readLogs(container)).trimEnd().split("\n").slice(-15).join("\n");
    const state = State.Running ? "it is running" : `it exited with code ${State.ExitCode}`;
    return `; ${state}\n--- last lines of its log ---\n${log || "(empty)"}`;
  } catch {
    // Only evidence for the message; the failure itself is reported either way.
    return "";
  }
}

/** Removes every container, running or not, that carries `label=value`, with its volumes. */
export async function removeContainersLabelled(
  client: ContainerRuntimeClient,
  label: string,
  value: string,
): Promise<number> {
  const dockerode = client.container.dockerode;
  const found = await dockerode.listContainers({
    all: true,
    filters: { label: [`${label}=${value}`] },
  });
  await Promise.all(
    found.map((info) =>
      dockerode
        .getContainer(info.Id)
        .remove({ force: true, v: true })
        // Already gone (removed by testcontainers after a failed wait, or concurrently).
        .catch(() => undefined),
    ),
  );
  return found.length;
}

/**
 * The address that reaches the ports a container publishes: the engine's host as
 * testcontainers resolves it (`TESTCONTAINERS_HOST_OVERRIDE`, a `tcp://` engine's host name,
 * or, inside a container, the gateway of Docker's bridge), with `localhost` as `127.0.0.1`:
 * it may resolve to `::1` first, where some clients (the ZooKeeper C client among them) do
 * not reach a port published on IPv4.
 */
export function publishHost(client: ContainerRuntimeClient): string {
  const host = client.info.containerRuntime.host;
  return host === "localhost" ? "127.0.0.1" : host;
}

/**
 * A container whose port is published on one host address only, the one clients use, rather
 * than on every address of the host, as `withExposedPorts` does: a test server answers on
 * loopback or on a Docker network, never on the machine's outside interfaces. A host given
 * by name (a remote engine) cannot be bound to, so there Docker's default stands.
 */
class ServerContainer extends GenericContainer {
  withPublishedPort(containerPort: number, host: string, hostPort: number): this {
    this.withExposedPorts({ container: containerPort, host: hostPort });
    if (isIP(host) !== 0) {
      this.hostConfig.PortBindings = {
        ...this.hostConfig.PortBindings,
        [`${containerPort}/tcp`]: [{ HostIp: host, HostPort: String(hostPort) }],
      };
    }
    return this;
  }
}
