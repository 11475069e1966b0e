import { describe, expect, it } from "vitest";
import { connectDocker, dockerAddress } from "./docker.js";
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
