import {
  defaultImages,
  EtcdCluster,
  EtcdContainer,
  isTestingSetupError,
  ownerLabel,
  ZooKeeperEnsemble,
} from "@elector/testing";
import { getContainerRuntimeClient } from "testcontainers";
import { afterEach, describe, expect, it, vi } from "vitest";

async function ownResources(): Promise<{ containers: number; networks: number }> {
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const filters = { label: [`${ownerLabel}=true`, `org.elector.testing.pid=${process.pid}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  return { containers: containers.length, networks: networks.length };
}

describe("setup errors", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("names the variable, the image and the elector-build-images bin when the image is not on the engine", async () => {
    vi.stubEnv("ELECTOR_ETCD_IMAGE", "elector-local/no-such-etcd:0");
    const error: unknown = await new EtcdContainer().start().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(isTestingSetupError(error) && error.code).toBe("image-missing");
    expect(String((error as Error).message)).toMatch(
      /ELECTOR_ETCD_IMAGE.*elector-local\/no-such-etcd:0.*npx elector-build-images/s,
    );
  });

  it("names the variable and its value when the image override is malformed", () => {
    vi.stubEnv("ELECTOR_ETCD_IMAGE", "Not An Image!");
    expect(() => new EtcdCluster()).toThrow(/ELECTOR_ETCD_IMAGE.*"Not An Image!"/);
  });

  it("removes every server and the network of an ensemble that does not serve within its startup timeout", async () => {
    const before = await ownResources();
    // The etcd image runs etcd, which never answers ZooKeeper's srvr: each server times out
    // after the network and the containers exist.
    const image = process.env.ELECTOR_ETCD_IMAGE ?? defaultImages.etcd;
    const error: unknown = await new ZooKeeperEnsemble(image)
      .withStartupTimeout(1_000)
      .start()
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );
    expect(isTestingSetupError(error) && error.code).toBe("start-failed");
    expect(String((error as Error).message)).toMatch(/zookeeper server \d is not serving/);
    expect(await ownResources()).toEqual(before);
  });
});
