import { describe, expect, it } from "vitest";
import { describeConfig, resolveConfig, resolveElectorOptions } from "./resolve.js";

describe("resolveConfig", () => {
  it("applies the defaults and freezes the result", () => {
    const etcd = resolveConfig("etcd://h1,h2:2380");
    expect(etcd).toMatchObject({
      endpoints: ["http://h1:2379", "http://h2:2380"],
      prefix: "",
      ttlSeconds: 10,
      safetyMarginMs: 1000,
      requestTimeoutMs: 5000,
    });
    expect(Object.isFrozen(etcd)).toBe(true);
    expect(resolveConfig("etcds://h1")).toMatchObject({ endpoints: ["https://h1:2379"], tls: {} });
    expect(resolveConfig("zk://z1")).toMatchObject({
      servers: ["z1:2181"],
      path: "/elector",
      sessionTimeoutMs: 10_000,
    });
    expect(resolveConfig("memory://")).toEqual({
      backend: "memory",
      name: "default",
      ttlMs: 10_000,
      safetyMarginMs: 1000,
    });
  });

  it("names the option and the value when a setting is out of range", () => {
    expect(() =>
      resolveConfig({ backend: "etcd", endpoints: ["h:2379"], ttlSeconds: 0.5 }),
    ).toThrow("ttlSeconds must be an integer number of seconds from 2 to 3600, got 0.5");
    expect(() => resolveConfig("etcd://h?ttl=1")).toThrow(/ttlSeconds .* got 1$/);
    expect(() => resolveConfig({ backend: "memory", ttlMs: 100, safetyMarginMs: 60 })).toThrow(
      "safetyMarginMs must be an integer number of milliseconds from 1 to 50, got 60",
    );
    expect(() => resolveConfig({ backend: "zookeeper", servers: ["z:99999"] })).toThrow(
      /servers\[0\]/,
    );
    expect(() => resolveConfig({ backend: "zookeeper", servers: ["z"], path: "elector/" })).toThrow(
      /^path/,
    );
    expect(() => resolveConfig({ backend: "etcd", endpoints: [] })).toThrow(/^endpoints/);
    expect(() => resolveConfig({ backend: "etcd", endpoints: "h:2379" as never })).toThrow(
      /^endpoints must be an array/,
    );
    expect(() =>
      resolveConfig({ backend: "etcd", endpoints: ["https://root:s3cret@h:2379"], tls: true }),
    ).toThrow(/^endpoints\[0\] must be .*got "\[redacted\]"$/);
    expect(() => resolveConfig({ backend: "consul" } as never)).toThrow(/^backend .*"consul"/);
  });

  it("refuses a safety margin below the floor that covers clock rates and check-to-act gaps", () => {
    // 100 ms, or 1% of the TTL when that is more, on the backends with a server of their own.
    expect(() =>
      resolveConfig({ backend: "etcd", endpoints: ["h:2379"], safetyMarginMs: 0 }),
    ).toThrow("safetyMarginMs must be an integer number of milliseconds from 100 to 5000, got 0");
    expect(() => resolveConfig("etcd://h:2379?ttl=3600&safetyMarginMs=35999")).toThrow(
      /^safetyMarginMs .* from 36000 to 1800000, got 35999$/,
    );
    expect(resolveConfig("etcd://h:2379?safetyMarginMs=100")).toMatchObject({
      safetyMarginMs: 100,
    });
    expect(() =>
      resolveConfig({ backend: "zookeeper", servers: ["z"], safetyMarginMs: 99 }),
    ).toThrow(/^safetyMarginMs .* from 100 to 5000, got 99$/);
    // In-process: one clock, so only 1% of the TTL, at least 1 ms.
    expect(() => resolveConfig({ backend: "memory", safetyMarginMs: 0 })).toThrow(
      /^safetyMarginMs .* from 100 to 5000, got 0$/,
    );
    expect(resolveConfig({ backend: "memory", ttlMs: 20, safetyMarginMs: 1 })).toMatchObject({
      safetyMarginMs: 1,
    });
  });

  it("keeps credentials out of what it logs", () => {
    const config = resolveConfig("etcd://ops:hunter2@h:2379");
    expect(JSON.stringify(describeConfig(config))).not.toContain("hunter2");
  });
});

describe("resolveElectorOptions", () => {
  it("validates the election name and the id", () => {
    expect(resolveElectorOptions({ election: "billing/cron-1", id: "worker-7" })).toMatchObject({
      election: "billing/cron-1",
      id: "worker-7",
    });
    expect(resolveElectorOptions({ election: "e" }).id).toMatch(/-\d+-[0-9a-f]{6}$/);
    expect(() => resolveElectorOptions({ election: "" })).toThrow(/^election must be/);
    expect(() => resolveElectorOptions({ election: "a//b" })).toThrow(/^election must be/);
    expect(() => resolveElectorOptions({ election: "e", id: "bad\nid" })).toThrow(/^id must be/);
  });
});
