import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "../errors.js";
import { resolveConfig, resolveElectorOptions } from "./resolve.js";
import { parseElectorUrl, redactUrl } from "./url.js";

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
