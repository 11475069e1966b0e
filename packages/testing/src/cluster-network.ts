import { randomUUID } from "node:crypto";
import {
  type ContainerRuntimeClient,
  getReaper,
  LABEL_TESTCONTAINERS_SESSION_ID,
} from "testcontainers";
import { dockerStatusCode } from "./docker.js";
import { isTestingSetupError, messageOf, TestingSetupError } from "./errors.js";
import type { ServerKind } from "./images.js";
import { ownerLabels } from "./labels.js";
import type { StartedServerContainer } from "./started-server-container.js";

/**
 * The private Docker network on which the members of one cluster talk to each other.
 *
 * It is `internal`: it never becomes a member's default gateway, so Docker keeps publishing
 * each member's client port through the default bridge, and disconnecting a member from this
 * network cuts it off from its peers only; its own clients still reach it.
 */
export class ClusterNetwork {
  private constructor(
    private readonly client: ContainerRuntimeClient,
    /** The Docker network name. */
    readonly name: string,
  ) {}

  /** Creates a network labelled as ours, named after `kind`. */
  static async create(client: ContainerRuntimeClient, kind: ServerKind): Promise<ClusterNetwork> {
    const name = `elector-${kind}-${randomUUID().slice(0, 8)}`;
    try {
      // The session label lets Ryuk remove the network where Ryuk runs; elsewhere our own
      // label lets the global setup find leftovers.
      const reaper = await getReaper(client);
      await client.network.create({
        Name: name,
        Driver: "bridge",
        Internal: true,
        CheckDuplicate: true,
        Labels: { ...ownerLabels(), [LABEL_TESTCONTAINERS_SESSION_ID]: reaper.sessionId },
      });
    } catch (error) {
      throw new TestingSetupError(
        "start-failed",
        `the ${kind} cluster network ${name} could not be created: ${messageOf(error)}`,
        { cause: error },
      );
    }
    return new ClusterNetwork(client, name);
  }

  /** Takes `containerId` off this network. */
  async disconnect(containerId: string): Promise<void> {
    await this.client.container.dockerode
      .getNetwork(this.name)
      .disconnect({ Container: containerId, Force: true });
  }

  /** Puts `containerId` back on this network under `aliases`. */
  async connect(containerId: string, aliases: readonly string[]): Promise<void> {
    await this.client.container.dockerode
      .getNetwork(this.name)
      .connect({ Container: containerId, EndpointConfig: { Aliases: [...aliases] } });
  }

  /** Removes the network; its members must be gone. Removing it twice does nothing. */
  async remove(): Promise<void> {
    try {
      await this.client.container.dockerode.getNetwork(this.name).remove();
    } catch (error) {
      if (dockerStatusCode(error) === 404) return;
      throw new TestingSetupError(
        "docker-failed",
        `the cluster network ${this.name} could not be removed: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }
}

/**
 * One member's place on its cluster network, behind the `disconnect()` and `reconnect()` of
 * cluster members.
 */
export class NetworkMembership {
  private connected = true;

  constructor(
    private readonly network: ClusterNetwork,
    private readonly member: StartedServerContainer,
    /** The names its peers reach it by. */
    readonly aliases: readonly string[],
  ) {}

  /** Cuts the member off from its peers; idempotent. */
  async disconnect(): Promise<void> {
    if (!this.connected) return;
    await this.call("disconnect()", () => this.network.disconnect(this.member.getId()));
    this.connected = false;
  }

  /** Puts the member back in reach of its peers; idempotent. */
  async reconnect(): Promise<void> {
    if (this.connected) return;
    await this.call("reconnect()", () => this.network.connect(this.member.getId(), this.aliases));
    this.connected = true;
  }

  private async call(action: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      throw new TestingSetupError(
        "docker-failed",
        `${action} of ${this.member.description} on network ${this.network.name} failed: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }
}

/**
 * Starts `size` members on a new cluster network. If any member fails, the members that did
 * start and the network are removed before the first failure is thrown: without Ryuk,
 * nothing else would remove them.
 */
export async function startCluster<M extends StartedServerContainer>(
  client: ContainerRuntimeClient,
  kind: ServerKind,
  size: number,
  startMember: (network: ClusterNetwork, index: number) => Promise<M>,
): Promise<{ network: ClusterNetwork; members: M[] }> {
  const network = await ClusterNetwork.create(client, kind);
  const results = await Promise.allSettled(
    Array.from({ length: size }, (_, index) => startMember(network, index)),
  );
  const members = results.flatMap((result) =>
    result.status === "fulfilled" ? [result.value] : [],
  );
  const failure = results.find((result) => result.status === "rejected");
  if (failure === undefined) return { network, members };
  // The start failure is what the caller needs to see; a failed cleanup must not hide it.
  await removeCluster(network, members).catch(() => undefined);
  const reason: unknown = failure.reason;
  if (isTestingSetupError(reason)) throw reason;
  throw new TestingSetupError(
    "start-failed",
    `the ${kind} cluster did not start: ${messageOf(reason)}`,
    {
      cause: reason,
    },
  );
}

/** Removes every member, then the network; reports the first failure after trying all. */
export async function removeCluster(
  network: ClusterNetwork,
  members: readonly StartedServerContainer[],
): Promise<void> {
  const results = await Promise.allSettled(members.map((member) => member.remove()));
  const networkResult = await Promise.allSettled([network.remove()]);
  const failure = [...results, ...networkResult].find((result) => result.status === "rejected");
  if (failure !== undefined) throw failure.reason;
}
