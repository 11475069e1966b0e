import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig } from "@elector/core";
import type { ResolvedEtcdConfig } from "@elector/core/backend";
import { describe, expect, it } from "vitest";
import { clientOptions, etcdClientOptions } from "./client.js";

const resolve = (config: object) =>
  resolveConfig({ backend: "etcd", ...config }) as ResolvedEtcdConfig;

describe("etcdClientOptions", () => {
  it("connects to every endpoint, with the user and password, and no etcd3 retries or breaker", () => {
    const options = etcdClientOptions({
      endpoints: ["10.0.0.1:2379", "10.0.0.2"],
      auth: { username: "root", password: "secret" },
      requestTimeoutMs: 2000,
    });
    expect(options.hosts).toEqual(["http://10.0.0.1:2379", "http://10.0.0.2:2379"]);
    expect(options.auth).toEqual({ username: "root", password: "secret" });
    expect(options.dialTimeout).toBe(2000);
    expect(options.credentials).toBeUndefined();
    const calls: string[] = [];
    const policy = options.faultHandling?.host?.("10.0.0.1:2379");
    return policy
      ?.execute(() => {
        calls.push("once");
        throw new Error("14 UNAVAILABLE");
      })
      .then(
        () => expect.unreachable(),
        () => expect(calls).toEqual(["once"]),
      );
  });

  it("reconnects the watch stream within a few hundred milliseconds at first, never over a second later", () => {
    // etcd3's WatchManager takes the first delay from next(), and each later one from next().
    let backoff = etcdClientOptions({ endpoints: ["etcd:2379"] }).faultHandling?.watchBackoff?.next(
      undefined,
    );
    const delays: number[] = [];
    for (let attempt = 0; attempt < 20 && backoff !== undefined; attempt++) {
      delays.push(backoff.duration);
      backoff = backoff.next(undefined) ?? backoff;
    }
    expect(delays).toHaveLength(20);
    expect(delays[0]).toBeLessThanOrEqual(400);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1000);
    expect(delays.at(-1)).toBe(1000);
  });

  it("reads the CA, certificate and key files for TLS", () => {
    const directory = mkdtempSync(join(tmpdir(), "elector-tls-"));
    const file = (name: string) => {
      const path = join(directory, name);
      writeFileSync(path, `-----BEGIN ${name}-----\n`);
      return path;
    };
    const options = clientOptions(
      resolve({
        endpoints: ["etcd:2379"],
        tls: { caFile: file("ca"), certFile: file("cert"), keyFile: file("key") },
      }),
    );
    expect(options.hosts).toEqual(["https://etcd:2379"]);
    expect(options.credentials?.rootCertificate.toString()).toBe("-----BEGIN ca-----\n");
    expect(options.credentials?.certChain?.toString()).toBe("-----BEGIN cert-----\n");
    expect(options.credentials?.privateKey?.toString()).toBe("-----BEGIN key-----\n");
  });

  it("uses the system's CAs for etcds:// without files", () => {
    const options = clientOptions(resolveConfig("etcds://etcd:2379") as ResolvedEtcdConfig);
    expect(options.hosts).toEqual(["https://etcd:2379"]);
    expect(options.credentials).toBeUndefined();
  });

  it("names the TLS file it cannot read", () => {
    expect(() =>
      clientOptions(resolve({ endpoints: ["etcd:2379"], tls: { caFile: "/nonexistent/ca.pem" } })),
    ).toThrow('tls.caFile must be a readable PEM file, got "/nonexistent/ca.pem"');
  });
});
