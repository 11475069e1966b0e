import { hostname } from "node:os";
import type { ContainerRuntimeClient } from "testcontainers";
import { connectDocker, ensureImage, ensureReaper } from "./docker.js";
import { messageOf, TestingSetupError } from "./errors.js";
import { resolveImage, type ServerKind } from "./images.js";
import { hostLabel, ownerLabel, parentPidLabel, pidLabel } from "./labels.js";

/**
 * Checks once, before any test starts a container, that a Docker engine answers and that
 * the image of each server kind is there (pulling a missing one once), so that a suite fails
 * at once with one message instead of once per test. For a vitest `globalSetup`.
 *
 * @param kinds the servers the suite starts.
 * @throws TestingSetupError `docker-unavailable`, `invalid-image`, `image-missing` or
 * `ryuk-unavailable`.
 *
 * @example
 * ```ts
 * export default async function setup() {
 *   await preflight(["etcd", "zookeeper"]);
 * }
 * ```
 */
export async function preflight(
  kinds: readonly ServerKind[] = ["etcd", "zookeeper", "postgres"],
): Promise<void> {
  const images = kinds.map((kind) => resolveImage(kind));
  const client = await connectDocker();
  for (const image of images) await ensureImage(client, image);
  await ensureReaper(client);
}

/** What {@link removeLeftovers} removed. */
export interface RemovedLeftovers {
  readonly containers: number;
  readonly networks: number;
}

/**
 * Removes containers and networks that this package made and that nobody will remove: those
 * whose creating process on this machine has exited (Ryuk, which would have removed them,
 * does not run where no registry is reachable). With `createdBy`, removes instead everything
 * that process or its child processes (a test runner's workers) made, live or not: for the
 * teardown of a vitest `globalSetup`, which runs in the runner's process.
 *
 * Resources made on another machine (a remote engine) or by another live process are left
 * alone, so that two test runs may share one engine.
 *
 * @throws TestingSetupError `docker-unavailable`, or `docker-failed` when a removal fails.
 *
 * @example
 * ```ts
 * export default async function setup() {
 *   await removeLeftovers();
 *   return () => removeLeftovers({ createdBy: process.pid });
 * }
 * ```
 */
export async function removeLeftovers(
  options: { readonly createdBy?: number } = {},
): Promise<RemovedLeftovers> {
  const client = await connectDocker();
  const dockerode = client.container.dockerode;
  const { createdBy } = options;
  const isLeftover = (labels: Record<string, string> | undefined): boolean =>
    createdBy === undefined ? creatorIsGone(labels) : isCreatedBy(labels, createdBy);
  try {
    const containers = (
      await dockerode.listContainers({ all: true, filters: { label: [`${ownerLabel}=true`] } })
    ).filter((container) => isLeftover(container.Labels));
    await Promise.all(
      containers.map((container) =>
        dockerode.getContainer(container.Id).remove({ force: true, v: true }),
      ),
    );
    const networks = (await listNetworks(client)).filter((network) => isLeftover(network.Labels));
    await Promise.all(networks.map((network) => dockerode.getNetwork(network.Id).remove()));
    return { containers: containers.length, networks: networks.length };
  } catch (error) {
    throw new TestingSetupError(
      "docker-failed",
      `removing leftover elector test containers and networks failed: ${messageOf(error)}`,
      { cause: error },
    );
  }
}

function listNetworks(client: ContainerRuntimeClient) {
  return client.container.dockerode.listNetworks({ filters: { label: [`${ownerLabel}=true`] } });
}

function isCreatedBy(labels: Record<string, string> | undefined, pid: number): boolean {
  if (labels?.[hostLabel] !== hostname()) return false;
  return labels[pidLabel] === String(pid) || labels[parentPidLabel] === String(pid);
}

function creatorIsGone(labels: Record<string, string> | undefined): boolean {
  if (labels?.[hostLabel] !== hostname()) return false;
  const pid = Number(labels[pidLabel]);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists under another user.
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}
