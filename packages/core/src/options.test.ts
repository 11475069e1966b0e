import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "./errors.js";
import {
  describeConfig,
  parseElectorUrl,
  redactUrl,
  resolveConfig,
  resolveElectorOptions,
} from "./options.js";

describe("parseElectorUrl", () => {
  it("reads memory URLs with and without a name", () => {
    expect(parseElectorUrl("memory://")).toEqual({ backend: "memory" });
    expect(parseElectorUrl("memory://tests?ttlMs=300")).toEqual({
      backend: "memory",
      name: "tests",
      ttlMs: 300,
    });
  });

  it("reads several etcd hosts, a prefix and the TTL", () => {
    expect(parseElectorUrl("etcd://h1:2379,h2:2379/services/jobs?ttl=10")).toEqual({
      backend: "etcd",
      endpoints: ["h1:2379", "h2:2379"],
      prefix: "services/jobs",
      ttlSeconds: 10,
    });
  });

  it("turns etcds:// into TLS and user:password@ into auth", () => {
    expect(parseElectorUrl("etcds://ops:s%3Acret@etcd:2379?caFile=/ca.pem")).toEqual({
      backend: "etcd",
      endpoints: ["etcd:2379"],
      auth: { username: "ops", password: "s:cret" },
      tls: { caFile: "/ca.pem" },
    });
  });

  it("reads ZooKeeper hosts, path and session timeout", () => {
    expect(parseElectorUrl("zk://z1:2181,z2:2181/elections?sessionTimeoutMs=8000")).toEqual({
      backend: "zookeeper",
      servers: ["z1:2181", "z2:2181"],
      path: "/elections",
      sessionTimeoutMs: 8000,
    });
  });

  it.each([
    ["redis://h:6379", "url"],
    ["etcd://h:2379?tll=5", "url"],
    ["etcd://h:2379?ttl=abc", "ttl"],
    ["etcd://h:2379?caFile=/ca.pem", "url"],
    ["memory://a,b", "url"],
    ["not a url", "url"],
  ])("refuses %s, naming %s", (url, option) => {
    expect(() => parseElectorUrl(url)).toThrow(InvalidOptionError);
    try {
      parseElectorUrl(url);
    } catch (error) {
      expect((error as InvalidOptionError).option).toBe(option);
    }
  });

  it.each([
    "etcds://root:sEcr3t@tOpS@etcd:2379?bogus=1",
    "etcds://root:sEcr3t#tOpS@etcd:2379?bogus=1",
    "etcds://root:sEcr3t?tOpS@etcd:2379?bogus=1",
    "etcds://root:sEcr3t/tOpS@etcd:2379?bogus=1",
  ])("hides every part of the password in %s", (url) => {
    const password = /root:(.*)@etcd/.exec(url)?.[1] as string;
    expect(() => parseElectorUrl(url)).toThrow(InvalidOptionError);
    try {
      parseElectorUrl(url);
    } catch (error) {
      const { message, value } = error as InvalidOptionError;
      for (const part of password.split(/[@#?/]/)) {
        expect(message).not.toContain(part);
        expect(String(value)).not.toContain(part);
      }
    }
  });

  it("reads a password with reserved characters when it is percent-encoded", () => {
    expect(parseElectorUrl("etcds://root:a%40b%2Fc@etcd:2379")).toMatchObject({
      auth: { username: "root", password: "a@b/c" },
    });
  });

  it("refuses broken escapes, both ttl spellings at once, and dot segments", () => {
    expect(() => parseElectorUrl("memory://%E0%A4%A")).toThrow(InvalidOptionError);
    expect(() => parseElectorUrl("etcd://h?ttl=5&ttlSeconds=5")).toThrow(
      /ttl or ttlSeconds, not both/,
    );
    expect(() => resolveConfig("zk://z/a/../b")).toThrow(/^path/);
    expect(() => resolveElectorOptions({ election: "a/.." })).toThrow(/^election/);
  });

  it("never puts a password into an error message", () => {
    expect(() => parseElectorUrl("etcds://ops:hunter2@h:2379?bogus=1")).toThrow(
      /ops:\[redacted\]@/,
    );
    expect(() => parseElectorUrl("etcds://ops:hunter2@h:2379?bogus=1")).not.toThrow(/hunter2/);
    expect(redactUrl("etcd://u:p@h")).toBe("etcd://u:[redacted]@h");
  });
});

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
      "safetyMarginMs must be an integer number of milliseconds from 0 to 50, got 60",
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
