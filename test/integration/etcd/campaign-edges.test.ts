import { isRetryableError } from "@elector/core";
import { createEtcdElector, type EtcdElector } from "@elector/etcd";
import { FaultProxy } from "@elector/testing";
import type { Etcd3 } from "etcd3";
import { describe, expect, it } from "vitest";
import { electorsForSuite } from "../../support/electors.js";
import { etcdWithClientForSuite } from "../../support/suite-servers.js";
import { electionKeysOf, uniqueElection, within } from "./helpers.js";

const ttlSeconds = 2;
const ttlMs = ttlSeconds * 1000;
/** The server's `--max-request-bytes`: 64 KiB, so that a 100 KB value is refused. */
const maxRequestBytes = 64 * 1024;
const requestTimeoutMs = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The IDs of the leases etcd holds now. */
async function leaseIds(admin: Etcd3): Promise<Set<string>> {
  const { leases } = await admin.leaseClient.leaseLeases();
  return new Set(leases.map((lease) => String(lease.ID)));
}

describe("etcd elector at the edges of a campaign: close during the grant, aborted proclaims, values over the server's limit", () => {
  const suite = etcdWithClientForSuite((etcd) => etcd.electionTimeoutMs, {
    environment: { ETCD_MAX_REQUEST_BYTES: String(maxRequestBytes) },
  });
  const started = () => {
    const { etcd, client } = suite();
    return { etcd, admin: client };
  };
  const closedAfterEach = electorsForSuite();
  const elector = async (election: string, id: string, endpoints?: string[]) =>
    closedAfterEach(
      await createEtcdElector({
        election,
        id,
        endpoints: endpoints ?? started().etcd.getClientEndpoints(),
        ttlSeconds,
        requestTimeoutMs,
      }),
    );

  it("leaves no lease behind when close() comes while the lease grant is under way", async () => {
    const { etcd: server, admin: reader } = started();
    const election = uniqueElection("close-in-grant");
    const latencyMs = 40;
    await using proxy = await FaultProxy.start({ target: server.getClientEndpoint() });
    proxy.latency(latencyMs);
    // A new client's first request, the grant, is under way from the connection's set-up
    // (a few round trips of 2 × 40 ms) until its answer: the delays walk across it.
    let closedDuringGrant = 0;
    for (let delayMs = 0; delayMs <= 400; delayMs += 20) {
      const before = await leaseIds(reader);
      const withdrawn = await createEtcdElector({
        election,
        id: `closed-${delayMs}`,
        endpoints: [proxy.endpoint],
        ttlSeconds,
      });
      const outcome = withdrawn.campaign().then(
        () => "elected",
        (error: unknown) => (error as Error).name,
      );
      await sleep(delayMs);
      await withdrawn.close();
      if ((await outcome) === "ElectorClosedError") closedDuringGrant++;
      // A grant that reached etcd before close() has been applied by now (one way: 40 ms).
      await sleep(4 * latencyMs);
      const left = [...(await leaseIds(reader))].filter((id) => !before.has(id));
      expect(left, `leases left after a close ${delayMs} ms into the campaign`).toEqual([]);
    }
    expect(closedDuringGrant).toBeGreaterThan(0);
    expect(await electionKeysOf(reader, election)).toEqual([]);
  });

  it("writes nothing for a proclaim whose signal had aborted before it was called", async () => {
    const { admin: reader } = started();
    const candidate = (await elector(uniqueElection("aborted-proclaim"), "a")) as EtcdElector;
    const leadership = await candidate.campaign({ value: "v1" });
    await expect(leadership.proclaim("v2", { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: "AbortError",
    });
    // Sent after it on the same connection: once this one is applied, an aborted proclaim that
    // was sent anyway has been applied too, and counts in the key's version.
    await leadership.proclaim("v3");
    const [kv] = (await reader.getAll().prefix(`${candidate.electionKey}/`).exec()).kvs;
    expect(kv?.value.toString()).toBe("v3");
    // Version 1 is the create with v1, version 2 is v3: v2 was never written.
    expect(kv?.version).toBe("2");
    expect(leadership.isActive()).toBe(true);
  });

  // 100 KB passes gRPC's limit (`--max-request-bytes` + 512 KiB) and is refused by etcd as "request
  // is too large" (INVALID_ARGUMENT); 700 KB is refused by gRPC itself with RESOURCE_EXHAUSTED,
  // which etcd3 takes for recoverable. Once core checks its 256 KiB limit up front, a 700 KB
  // value is refused there (invalid-option) before it reaches etcd: either way, at once.
  const tooLarge = [
    { size: 100_000, codes: ["backend-failed"] },
    { size: 700_000, codes: ["backend-failed", "invalid-option"] },
  ];

  it.each(tooLarge)(
    "fails a campaign whose value ($size bytes) is over the server's request limit at once, as not retryable, and leaves nothing behind",
    async ({ size, codes }) => {
      const { admin: reader } = started();
      const candidate = (await elector(uniqueElection("huge-campaign"), "huge")) as EtcdElector;
      const leasesBefore = await leaseIds(reader);
      const error = await within(
        candidate.campaign({ value: "x".repeat(size) }).then(
          () => undefined,
          (failure: unknown) => failure,
        ),
        requestTimeoutMs,
        `the campaign with a ${size} byte value`,
      );
      expect(codes).toContain((error as { code?: string }).code);
      expect(isRetryableError(error)).toBe(false);
      expect(await electionKeysOf(reader, candidate.electionKey)).toEqual([]);
      expect([...(await leaseIds(reader))].filter((id) => !leasesBefore.has(id))).toEqual([]);
      // The elector is fine: a campaign with a small value wins.
      const leadership = await within(candidate.campaign({ value: "small" }), ttlMs, "a campaign");
      expect(leadership.isActive()).toBe(true);
    },
  );

  it.each(tooLarge)(
    "fails a proclaim whose value ($size bytes) is over the server's request limit as not retryable, and keeps the term",
    async ({ size, codes }) => {
      const candidate = (await elector(uniqueElection("huge-proclaim"), "huge")) as EtcdElector;
      const leadership = await candidate.campaign({ value: "v1" });
      const error = await within(
        leadership.proclaim("x".repeat(size)).then(
          () => undefined,
          (failure: unknown) => failure,
        ),
        requestTimeoutMs,
        `the proclaim of a ${size} byte value`,
      );
      expect(codes).toContain((error as { code?: string }).code);
      expect(isRetryableError(error)).toBe(false);
      // Longer than a TTL: the keep-alives and the own key's watch went on unharmed.
      await sleep(ttlMs);
      expect(leadership.isActive()).toBe(true);
      await leadership.proclaim("v2");
      expect(await candidate.leader()).toMatchObject({ value: "v2", token: leadership.token });
    },
  );
});
