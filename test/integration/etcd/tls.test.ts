import { ConnectionError, createElector, ElectorError } from "@elector/core";
import { EtcdContainer } from "@elector/testing";
import { describe, expect, it } from "vitest";
import { startedForSuite } from "../../support/suite-servers.js";
import { uniqueElection } from "./helpers.js";

const ttlSeconds = 2;
// Short, so that the untrusted client gives up soon; a local TLS handshake takes milliseconds.
const requestTimeoutMs = 2_000;

describe("etcd elector over TLS", () => {
  const started = startedForSuite("etcd with TLS", {
    start: () => new EtcdContainer().withTls().start(),
    stop: (etcd) => etcd.remove(),
    servers: (etcd) => [etcd],
  });
  const address = (): string => `${started().getHost()}:${started().getClientPort()}`;

  it("serves https:// at getClientEndpoint() with a CA file on the host", () => {
    expect(started().getClientEndpoint()).toBe(`https://${address()}`);
    expect(started().getCaFile()).toMatch(/ca\.pem$/);
  });

  it("campaigns, reads the leader back and resigns over etcds:// with the caFile", async () => {
    const caFile = encodeURIComponent(started().getCaFile());
    await using elector = await createElector(
      `etcds://${address()}?caFile=${caFile}&ttl=${ttlSeconds}`,
      { election: uniqueElection("tls"), id: "over-tls" },
    );
    const leadership = await elector.campaign();
    expect(leadership.isActive()).toBe(true);
    expect(await elector.leader()).toMatchObject({ id: "over-tls", token: leadership.token });
    await leadership.resign();
    expect(leadership.isActive()).toBe(false);
    expect(await elector.leader()).toBeUndefined();
  });

  it("fails with a ConnectionError within the request timeout when the system CAs do not trust the server", async () => {
    await using elector = await createElector(
      `etcds://${address()}?ttl=${ttlSeconds}&requestTimeoutMs=${requestTimeoutMs}`,
      { election: uniqueElection("tls-untrusted"), id: "without-ca" },
    );
    const startedAt = performance.now();
    const error = await elector.leader().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    const elapsedMs = performance.now() - startedAt;
    expect(error).toBeInstanceOf(ElectorError);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(/certificate/);
    expect(elapsedMs).toBeLessThan(2 * requestTimeoutMs);
  });
});
