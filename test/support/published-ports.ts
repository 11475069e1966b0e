import type { StartedServerContainer } from "@elector/testing";
import { getContainerRuntimeClient } from "testcontainers";
import { expect } from "vitest";

/** Every host address that Docker publishes `server`'s ports on, as its inspect shows. */
export async function publishedAddresses(server: StartedServerContainer): Promise<string[]> {
  const client = await getContainerRuntimeClient();
  const info = await client.container.getById(server.getId()).inspect();
  const bindings = Object.values(info.NetworkSettings.Ports ?? {}).flatMap((list) => list ?? []);
  return [...new Set(bindings.map((binding) => binding.HostIp))];
}

/**
 * Where a test server may answer on this machine: loopback, or the gateway of one of
 * Docker's own networks. Anything else (the empty string above all: every address) is an
 * outside interface.
 */
export async function allowedListenAddresses(): Promise<Set<string>> {
  const client = await getContainerRuntimeClient();
  const networks = await client.container.dockerode.listNetworks();
  const gateways = networks.flatMap((network) =>
    (network.IPAM?.Config ?? []).flatMap((config) =>
      config.Gateway === undefined ? [] : [config.Gateway],
    ),
  );
  return new Set(["127.0.0.1", "::1", ...gateways]);
}

/**
 * Asserts that `server`'s ports are published on its `getHost()` alone, and that this is
 * loopback or a Docker network's gateway: never every address of the machine.
 */
export async function expectPublishedOnlyOnItsHost(server: StartedServerContainer): Promise<void> {
  expect(await publishedAddresses(server)).toEqual([server.getHost()]);
  expect([...(await allowedListenAddresses())]).toContain(server.getHost());
}
