import { createEtcdElector, type EtcdElector } from "@elector/etcd";
import { afterAll, describe, expect, it } from "vitest";
import { etcdForSuite } from "../../support/suite-servers.js";
import { lineOf, uniqueElection, within } from "./helpers.js";

const ttlSeconds = 2;
const ttlMs = ttlSeconds * 1000;
/** etcdctl starts and connects within this; it is a fresh Go process each time. */
const etcdctlMs = 10_000;

describe("etcd elector next to etcdctl elect (Go's concurrency.Election)", () => {
  const started = etcdForSuite();
  let ours: EtcdElector | undefined;
  /** What `etcdctl elect -l` prints first: the leader's key and value, one per line. */
  const listLeader = async (election: string) => {
    // -l follows the leader until interrupted; two seconds are enough to print the first.
    const { stdout } = await started().exec([
      "timeout",
      "-s",
      "INT",
      "2",
      "etcdctl",
      "elect",
      "-l",
      election,
    ]);
    return stdout.split("\n").filter(Boolean);
  };

  // Registered after the server's, so it runs first: the elector closes while etcd is up.
  afterAll(async () => {
    await ours?.close();
  });

  it("takes turns with an etcdctl elect candidate on the same election, and etcdctl elect -l shows our leader's value", async () => {
    const server = started();
    const election = uniqueElection("interop");
    ours = await createEtcdElector({
      election,
      id: "ours",
      endpoints: server.getClientEndpoints(),
      ttlSeconds,
    });
    const first = await ours.campaign({ value: "ours-1" });
    const [key, value] = await listLeader(election);
    expect(key).toMatch(new RegExp(`^${election}/[0-9a-f]+$`));
    expect(value).toBe("ours-1");

    // A Go candidate joins behind us; it blocks while it waits and while it leads.
    const output = `/tmp/${election}.out`;
    const spawned = await server.exec([
      "sh",
      "-c",
      `setsid etcdctl elect ${election} go-value > ${output} 2>&1 < /dev/null & echo $!`,
    ]);
    const pid = spawned.stdout.trim();
    expect(pid).toMatch(/^\d+$/);
    await lineOf(ours, 2, etcdctlMs);
    const [, go] = await ours.participants();
    // A Go candidate has no id key: its id is its lease in hex, the end of its key.
    expect(go).toMatchObject({ value: "go-value", leader: false });
    expect(go?.id).toMatch(/^[0-9a-f]+$/);

    await first.resign();
    await expect
      .poll(async () => (await server.exec(["cat", output])).stdout, { timeout: ttlMs })
      .toContain("go-value");
    expect(await ours.leader()).toMatchObject({ id: go?.id, value: "go-value", token: go?.token });

    // Now we wait behind the Go leader, and lead only once it resigns.
    let electedAt: number | undefined;
    const second = ours.campaign({ value: "ours-2" }).then((leadership) => {
      electedAt = Date.now();
      return leadership;
    });
    await lineOf(ours, 2, ttlMs);
    expect((await ours.participants()).map((participant) => participant.value)).toEqual([
      "go-value",
      "ours-2",
    ]);
    expect(electedAt).toBeUndefined();
    const interruptedAt = Date.now();
    await server.exec(["sh", "-c", `kill -INT ${pid}`]);
    const leadership = await within(second, ttlMs, "our election after etcdctl resigned");
    expect(electedAt).toBeGreaterThanOrEqual(interruptedAt);
    expect(leadership.isActive()).toBe(true);
    expect((await listLeader(election))[1]).toBe("ours-2");
    await leadership.resign();
  });
});
