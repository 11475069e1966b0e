import { createEtcdElector, etcdClientOptions } from "@elector/etcd";
import { Etcd3 } from "etcd3";
import { describe, expect, it } from "vitest";
import { etcdForSuite } from "../../support/suite-servers.js";
import { uniqueElection } from "./helpers.js";

const ttlSeconds = 2;
const ttlMs = ttlSeconds * 1000;
const safetyMarginMs = 500;
const intervalMs = ttlMs / 3;
/** Past the deadline of the last answered keep-alive, short of the one just sent. */
const pauseMs = 1_200;

/** Blocks the event loop, as a GC pause or a busy loop would. */
function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

describe("etcd elector in a process that pauses", () => {
  const etcd = etcdForSuite();

  it("keeps the term through a pause right after a keep-alive was sent, whose answer proves a deadline still ahead", async () => {
    // The deadline before the pause: the previous keep-alive's send time + TTL − margin, one
    // interval before this one's. The pause outlasts it but not this keep-alive's own.
    expect(pauseMs).toBeGreaterThan(ttlMs - safetyMarginMs - intervalMs);
    expect(pauseMs).toBeLessThan(ttlMs - safetyMarginMs);
    const client = new Etcd3(etcdClientOptions({ endpoints: etcd().getClientEndpoints() }));
    // The test's own client, so that it can pause the process right after the keeper writes
    // a keep-alive to etcd; the server is real.
    const leaseClient = client.leaseClient;
    const openStream = leaseClient.leaseKeepAlive.bind(leaseClient);
    let pauseAfterNextWrite = false;
    let pausedAt: number | undefined;
    leaseClient.leaseKeepAlive = async () => {
      const stream = await openStream();
      const writable = stream as unknown as { write: (request: unknown) => boolean };
      const write = writable.write.bind(stream);
      writable.write = (request) => {
        const written = write(request);
        if (pauseAfterNextWrite) {
          pauseAfterNextWrite = false;
          // Once the write has gone to the socket (http2 flushes in the check phase), before
          // the answer is read: it arrives during the pause.
          setImmediate(() => {
            pausedAt = performance.now();
            blockFor(pauseMs);
          });
        }
        return written;
      };
      return stream;
    };
    const elector = await createEtcdElector({
      election: uniqueElection("pause"),
      id: "paused",
      client,
      ttlSeconds,
      safetyMarginMs,
    });
    try {
      const leadership = await elector.campaign();
      // A keep-alive answered on the stream: the keeper runs on schedule.
      const first = leadership.deadline();
      await expect.poll(() => leadership.deadline() > first, { timeout: ttlMs }).toBe(true);
      const deadlineBefore = leadership.deadline();
      pauseAfterNextWrite = true;
      await expect.poll(() => pausedAt !== undefined, { timeout: 2 * intervalMs }).toBe(true);
      // The pause ended past the deadline the term had before it...
      expect((pausedAt ?? 0) + pauseMs).toBeGreaterThan(deadlineBefore);
      // ...and the answer read after it moved the deadline on, so the term lives.
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      expect(leadership.signal.reason).toBeUndefined();
      expect(leadership.isActive()).toBe(true);
      expect(leadership.deadline()).toBeGreaterThan(deadlineBefore);
    } finally {
      await elector.close();
      client.close();
    }
  });
});
