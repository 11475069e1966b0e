import { EtcdContainer } from "@elector/testing";
import { GRPCDeadlineExceededError } from "etcd3";
import { getContainerRuntimeClient } from "testcontainers";
import { describe, expect, it } from "vitest";
import { openEtcdClient } from "../../support/etcd-client.js";
import { expectPublishedOnlyOnItsHost } from "../../support/published-ports.js";
import { etcdForSuite } from "../../support/suite-servers.js";

async function containerExists(id: string): Promise<boolean> {
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const found = await docker.listContainers({ all: true, filters: { id: [id] } });
  return found.length > 0;
}

describe("EtcdContainer", () => {
  const started = etcdForSuite();

  it("serves a put and a get from the etcd3 client at getClientEndpoints()", async () => {
    const server = started();
    expect(server.getClientEndpoint()).toBe(`http://${server.getHost()}:${server.getClientPort()}`);
    await expectPublishedOnlyOnItsHost(server);
    const client = openEtcdClient(server.getClientEndpoints(), server.electionTimeoutMs);
    try {
      await client.put("harness/greeting").value("hello");
      expect(await client.get("harness/greeting").string()).toBe("hello");
    } finally {
      client.close();
    }
  });

  it("returns the server's log text from logs()", async () => {
    expect(await started().logs()).toContain("serving client traffic");
  });

  it("times a request out while paused, and serves the first request after unpause()", async () => {
    const server = started();
    // One election timeout: far longer than a local round trip, short enough to wait out.
    const callTimeoutMs = server.electionTimeoutMs;
    const client = openEtcdClient(server.getClientEndpoints(), callTimeoutMs);
    try {
      await client.put("harness/paused").value("before");
      await server.pause();
      try {
        const sent = Date.now();
        await expect(client.get("harness/paused").string()).rejects.toBeInstanceOf(
          GRPCDeadlineExceededError,
        );
        expect(Date.now() - sent).toBeGreaterThanOrEqual(callTimeoutMs - 50);
      } finally {
        await server.unpause();
      }
      expect(await client.get("harness/paused").string()).toBe("before");
    } finally {
      client.close();
    }
  });

  it("keeps its data and its endpoint across stop() and restart()", async () => {
    const server = started();
    const endpoint = server.getClientEndpoint();
    const before = openEtcdClient(server.getClientEndpoints(), server.electionTimeoutMs);
    try {
      await before.put("harness/durable").value("kept");
    } finally {
      before.close();
    }
    await server.stop();
    await server.restart();
    expect(server.getClientEndpoint()).toBe(endpoint);
    const after = openEtcdClient([endpoint], server.electionTimeoutMs);
    try {
      expect(await after.get("harness/durable").string()).toBe("kept");
    } finally {
      after.close();
    }
  });

  it("removes its container at the end of an `await using` block", async () => {
    let id: string;
    {
      await using scoped = await new EtcdContainer().start();
      id = scoped.getId();
      expect(await containerExists(id)).toBe(true);
    }
    expect(await containerExists(id)).toBe(false);
  });
});
