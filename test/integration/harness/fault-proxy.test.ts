import { FaultProxy } from "@elector/testing";
import { GRPCDeadlineExceededError } from "etcd3";
import { describe, expect, it } from "vitest";
import { openEtcdClient } from "../../support/etcd-client.js";
import { etcdForSuite } from "../../support/suite-servers.js";

describe("FaultProxy in front of etcd", () => {
  const started = etcdForSuite();

  it("times out a client behind a black-holed proxy while a direct client keeps working, and heals with the proxy", async () => {
    const server = started();
    const callTimeoutMs = server.electionTimeoutMs;
    await using proxy = await FaultProxy.start({ target: server.getClientEndpoint() });
    expect(proxy.endpoint).toBe(`http://127.0.0.1:${proxy.port}`);
    const proxied = openEtcdClient([proxy.endpoint], callTimeoutMs);
    const direct = openEtcdClient(server.getClientEndpoints(), callTimeoutMs);
    try {
      await proxied.put("harness/proxied").value("through");
      expect(proxy.connectionCount).toBe(1);

      proxy.blackhole();
      await expect(proxied.get("harness/proxied").string()).rejects.toBeInstanceOf(
        GRPCDeadlineExceededError,
      );
      expect(await direct.get("harness/proxied").string()).toBe("through");

      proxy.heal();
      expect(await proxied.get("harness/proxied").string()).toBe("through");
    } finally {
      proxied.close();
      direct.close();
    }
  });

  it("delays a request and its answer by latency(ms) each way", async () => {
    const server = started();
    const latencyMs = 250;
    await using proxy = await FaultProxy.start({ target: server.getClientEndpoint() });
    const proxied = openEtcdClient([proxy.endpoint], 4 * latencyMs + server.electionTimeoutMs);
    try {
      await proxied.put("harness/slow").value("later");
      proxy.latency(latencyMs);
      const sent = Date.now();
      expect(await proxied.get("harness/slow").string()).toBe("later");
      expect(Date.now() - sent).toBeGreaterThanOrEqual(2 * latencyMs);
    } finally {
      proxied.close();
    }
  });
});
