import {
  EtcdFence,
  type Fence,
  MemoryFence,
  PostgresFence,
  StaleTokenError,
} from "@elector/fencing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openEtcdClient } from "../../support/etcd-client.js";
import { etcdWithClientForSuite, postgresPoolForSuite } from "../../support/suite-servers.js";
import { type FenceUnderTest, fenceProperty, staleBurst } from "./admissions.js";
import { EtcdPutHistory } from "./etcd-history.js";

// The same property against every store: random interleavings of admits from many writers
// never let the high-water mark go back, and never let a stale token pass.

const writers = 6;
const maxAdmits = 16;
let runs = 0;
const scopes = () => `run-${++runs}-`;

/** The memory fence, with its history recorded as it sets each mark. */
class RecordingMemoryFence extends MemoryFence {
  readonly recorded = new Map<string, bigint[]>();

  override admitNow(resource: string, token: bigint, options?: { signal?: AbortSignal }): void {
    super.admitNow(resource, token, options);
    this.recorded.set(resource, [...(this.recorded.get(resource) ?? []), token]);
  }
}

/**
 * What a fence must not be: it reads the mark, lets the event loop turn (the store's round
 * trip), then writes. Used to show that the property catches a store that is not atomic.
 */
class ReadThenWriteFence implements Fence {
  readonly marks = new Map<string, bigint>();
  readonly recorded = new Map<string, bigint[]>();

  async admit(resource: string, token: bigint): Promise<void> {
    const highest = this.marks.get(resource);
    await new Promise((resolve) => setImmediate(resolve));
    if (highest !== undefined && token < highest)
      throw new StaleTokenError(resource, token, highest);
    this.marks.set(resource, token);
    this.recorded.set(resource, [...(this.recorded.get(resource) ?? []), token]);
  }

  async highest(resource: string): Promise<bigint | undefined> {
    return this.marks.get(resource);
  }
}

describe("fence properties: memory", () => {
  it("random interleavings of admits from many writers never lower the mark nor pass a stale token", async () => {
    const fence = new RecordingMemoryFence();
    const subject: FenceUnderTest = {
      fence,
      history: async (resource) => fence.recorded.get(resource) ?? [],
    };
    await fc.assert(fenceProperty(subject, { writers, maxAdmits, scopes }), { numRuns: 300 });
  });

  it("the same property catches a fence that reads, then writes in a second step", async () => {
    const fence = new ReadThenWriteFence();
    const subject: FenceUnderTest = {
      fence,
      history: async (resource) => fence.recorded.get(resource) ?? [],
    };
    const result = await fc.check(fenceProperty(subject, { writers, maxAdmits, scopes }), {
      numRuns: 300,
    });
    expect(result.failed).toBe(true);
    expect(String(result.errorInstance)).toMatch(
      /went back|passed after|recorded|refused citing|highest is/,
    );
  });

  it("of many concurrent admits after token 34, no stale one passes", async () => {
    const outcome = await staleBurst(new MemoryFence(), "ledger", { admitted: 34n, writers: 24 });
    expect(outcome.stalePassed).toEqual([]);
    expect(outcome.staleRefused).toBe(16);
  });
});

describe("fence properties: etcd", () => {
  const suite = etcdWithClientForSuite();
  const started = () => suite().client;

  it("random interleavings of admits from many writers never lower the mark nor pass a stale token", async () => {
    const etcdClient = started();
    const fence = new EtcdFence(etcdClient, { prefix: "fence-properties/" });
    const puts = await EtcdPutHistory.start(etcdClient, fence.prefix);
    try {
      const subject: FenceUnderTest = {
        fence,
        history: async (resource) => (await puts.of(fence.keyOf(resource))).map(BigInt),
      };
      await fc.assert(fenceProperty(subject, { writers, maxAdmits, scopes }), { numRuns: 60 });
    } finally {
      await puts.stop();
    }
  });

  it("two resource servers on separate clients admit concurrently and no stale token passes", async () => {
    const etcdClient = started();
    const other = openEtcdClient(suite().etcd.getClientEndpoints(), 5_000);
    try {
      const servers = [new EtcdFence(etcdClient), new EtcdFence(other)];
      // One fence object that alternates between the two servers' fences.
      let turn = 0;
      const alternating: Fence = {
        admit: (resource, token) => (servers[turn++ % 2] as EtcdFence).admit(resource, token),
        highest: (resource) => (servers[0] as EtcdFence).highest(resource),
      };
      const outcome = await staleBurst(alternating, "two-servers", { admitted: 34n, writers: 24 });
      expect(outcome.stalePassed).toEqual([]);
      expect(outcome.staleRefused).toBe(16);
      expect(await servers[1]?.highest("two-servers")).toBe(34n + 21n);
    } finally {
      other.close();
    }
  });
});

describe("fence properties: PostgreSQL", () => {
  const started = postgresPoolForSuite({
    max: writers,
    prepare: async (pool) => {
      await new PostgresFence(pool).createTable();
      // The test's own record of every change to the marks, in the order the rows were locked.
      await pool.query(`
        CREATE TABLE fence_history (id bigserial PRIMARY KEY, resource text NOT NULL, token bigint NOT NULL);
        CREATE FUNCTION record_fence() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN INSERT INTO fence_history (resource, token) VALUES (NEW.resource, NEW.token); RETURN NEW; END $$;
        CREATE TRIGGER record_fence AFTER INSERT OR UPDATE ON elector_fences
          FOR EACH ROW EXECUTE FUNCTION record_fence();`);
    },
  });

  it("random interleavings of admits from many writers never lower the mark nor pass a stale token", async () => {
    const db = started();
    const subject: FenceUnderTest = {
      fence: new PostgresFence(db),
      history: async (resource) => {
        const { rows } = await db.query<{ token: string }>(
          "SELECT token::text AS token FROM fence_history WHERE resource = $1 ORDER BY id",
          [resource],
        );
        return rows.map((row) => BigInt(row.token));
      },
    };
    await fc.assert(fenceProperty(subject, { writers, maxAdmits, scopes }), { numRuns: 60 });
  });

  it("of many concurrent admits after token 34, no stale one passes", async () => {
    const outcome = await staleBurst(new PostgresFence(started()), "burst", {
      admitted: 34n,
      writers: 24,
    });
    expect(outcome.stalePassed).toEqual([]);
    expect(outcome.staleRefused).toBe(16);
  });
});
