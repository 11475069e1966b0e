import type { Logger } from "@elector/core";
import { CandidateKeyLostError, createEtcdElector, type EtcdElector } from "@elector/etcd";
import { FaultProxy } from "@elector/testing";
import { describe, expect, it } from "vitest";
import { etcdWithClientForSuite } from "../../support/suite-servers.js";
import { abortTime, uniqueElection } from "./helpers.js";

const ttlSeconds = 3;
const ttlMs = ttlSeconds * 1000;
const safetyMarginMs = 500;
/** Each way, on the leader's connection only: one more request would cost 2 × this. */
const latencyMs = 300;

/** A logger that keeps its warnings. */
function warningLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (first: string | Record<string, unknown>, message?: string) => {
      warnings.push(typeof first === "string" ? first : (message ?? ""));
    },
    error: () => {},
    child: () => logger,
  };
  return { logger, warnings };
}

describe("etcd elector when its key goes behind its back", () => {
  const started = etcdWithClientForSuite();

  it("ends the term as soon as the delete of its key arrives, without a request for the reason, which follows in the cause", async () => {
    const { etcd, client: admin } = started();
    await using proxy = await FaultProxy.start({ target: etcd.getClientEndpoint() });
    const leader = await createEtcdElector({
      election: uniqueElection("revoked"),
      id: "leader",
      endpoints: [proxy.endpoint],
      ttlSeconds,
      safetyMarginMs,
    });
    try {
      const leadership = await leader.campaign();
      const steppedDownAt = abortTime(leadership.signal);
      const [kv] = (await admin.getAll().prefix(`${leader.electionKey}/`).exec()).kvs;
      if (kv === undefined) throw new Error("the leader has no key");
      proxy.latency(latencyMs);
      // What etcd-io/etcd#15247 does to a live lease, while its keep-alives are answered.
      await admin.leaseClient.leaseRevoke({ ID: kv.lease });
      const revokedAt = performance.now();

      await expect
        .poll(() => leadership.signal.aborted, { timeout: 4 * latencyMs + 1000 })
        .toBe(true);
      // The delete reaches the leader one way after the revoke; asking etcd about the lease
      // first would add a round trip (2 × latency).
      expect((steppedDownAt() ?? Number.POSITIVE_INFINITY) - revokedAt).toBeLessThan(
        latencyMs + 2 * latencyMs,
      );
      expect(leadership.signal.reason).toMatchObject({ code: "deleted" });
      expect(leadership.isActive()).toBe(false);
      const cause = (leadership.signal.reason as Error).cause;
      expect(cause).toBeInstanceOf(CandidateKeyLostError);
      await (cause as CandidateKeyLostError).checked;
      expect((cause as CandidateKeyLostError).leaseGone).toBe(true);
    } finally {
      proxy.latency(0);
      await leader.close();
    }
  });

  it("ends the term with 'deleted' and a live lease in the cause when someone deletes only its key", async () => {
    const { client: admin, etcd } = started();
    const leader = (await createEtcdElector({
      election: uniqueElection("deleted"),
      id: "leader",
      endpoints: etcd.getClientEndpoints(),
      ttlSeconds,
      safetyMarginMs,
    })) as EtcdElector;
    try {
      const leadership = await leader.campaign();
      const [key] = await admin.getAll().prefix(`${leader.electionKey}/`).keys();
      if (key === undefined) throw new Error("the leader has no key");
      await admin.delete().key(key).exec();
      await expect.poll(() => leadership.signal.aborted, { timeout: ttlMs }).toBe(true);
      expect(leadership.signal.reason).toMatchObject({ code: "deleted" });
      const cause = (leadership.signal.reason as Error).cause as CandidateKeyLostError;
      await cause.checked;
      expect(cause.leaseGone).toBe(false);
    } finally {
      await leader.close();
    }
  });

  it("warns, naming etcd-io/etcd#15247, when the server is a version that revokes live leases", async () => {
    const { etcd, client: admin } = started();
    const { version } = await admin.maintenance.status();
    const [major, minor, patch] = version.split(".").map(Number) as [number, number, number];
    const affected =
      major < 3 ||
      (major === 3 && (minor < 4 || (minor === 4 && patch < 28) || (minor === 5 && patch < 10)));
    const { logger, warnings } = warningLogger();
    const elector = await createEtcdElector({
      election: uniqueElection("version"),
      endpoints: etcd.getClientEndpoints(),
      ttlSeconds,
      logger,
    });
    try {
      await elector.participants();
      await expect
        .poll(() => warnings.some((warning) => warning.includes("etcd-io/etcd#15247")), {
          timeout: 2000,
        })
        .toBe(affected);
      if (!affected) expect(warnings).toEqual([]);
    } finally {
      await elector.close();
    }
  });
});
