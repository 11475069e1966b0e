import type { ContainerRuntimeClient } from "testcontainers";
import { describe, expect, it } from "vitest";
import { connectDocker, dockerAddress, ensureReaper } from "./docker.js";
import { isTestingSetupError } from "./errors.js";

describe("connectDocker", () => {
  it("turns testcontainers' failure into one message that says where it looked and what to do", async () => {
    const cause = new Error("Could not find a working container runtime strategy");
    const error: unknown = await connectDocker(() => Promise.reject(cause)).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(isTestingSetupError(error) && error.code).toBe("docker-unavailable");
    expect((error as Error).message).toMatch(
      new RegExp(`^no Docker engine answers at ${dockerAddress()}.*install and start one`),
    );
    expect((error as Error).cause).toBe(cause);
  });

  it("names DOCKER_HOST when it is set", () => {
    expect(dockerAddress({ DOCKER_HOST: "tcp://10.0.0.5:2375" })).toBe("tcp://10.0.0.5:2375");
    expect(dockerAddress({})).toBe("unix:///var/run/docker.sock");
  });
});

describe("ensureReaper", () => {
  const client = {} as ContainerRuntimeClient;

  it("says to set TESTCONTAINERS_RYUK_DISABLED=true when Ryuk cannot start", async () => {
    const cause = new Error(
      '(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host',
    );
    const error: unknown = await ensureReaper(client, () => Promise.reject(cause), {}).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(isTestingSetupError(error) && error.code).toBe("ryuk-unavailable");
    expect((error as Error).message).toMatch(
      /could not start Ryuk.*testcontainers\/ryuk.*no such host.*Set TESTCONTAINERS_RYUK_DISABLED=true/s,
    );
    expect((error as Error).cause).toBe(cause);
  });

  it("does not start Ryuk when TESTCONTAINERS_RYUK_DISABLED=true", async () => {
    let started = 0;
    await ensureReaper(
      client,
      async () => {
        started += 1;
      },
      { TESTCONTAINERS_RYUK_DISABLED: "true" },
    );
    expect(started).toBe(0);
  });
});
