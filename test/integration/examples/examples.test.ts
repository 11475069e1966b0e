// Each example of examples/ run as a user would run it: as processes, against real servers.

import { isStaleTokenError, PostgresFence } from "@elector/fencing";
import { PostgreSqlContainer, ZooKeeperContainer } from "@elector/testing";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { recordRun } from "../../../examples/fenced-postgres/src/billing.js";
import { eventually } from "../../support/eventually.js";
import { etcdForSuite } from "../../support/suite-servers.js";
import { root, SpawnedProcess, sourceEnv } from "../cli/spawned-process.js";

const ttlMs = 2_000;
/** What a failover may take after the leader dies: the TTL, and the 1.5 s on top. */
const failoverBoundMs = ttlMs + 1_500;
/** Starting an example from TypeScript sources on a busy machine. */
const startupMs = 15_000;
/** Time for something that should happen about now, or for a process to stop. */
const soonMs = 5_000;

/** Starts `examples/<name>/src/main.ts` as `pnpm --filter … start` would. */
function example(name: string, id: string, env: NodeJS.ProcessEnv): SpawnedProcess {
  return SpawnedProcess.start(
    `${name} ${id}`,
    process.execPath,
    ["--import", "tsx", `${root}examples/${name}/src/main.ts`],
    { env: { ...sourceEnv, INSTANCE_ID: id, ...env } },
  );
}

/** Which of two instances leads, once one says so. */
async function leaderOf(
  instances: readonly [SpawnedProcess, SpawnedProcess],
): Promise<{ leader: SpawnedProcess; follower: SpawnedProcess; token: bigint }> {
  const { process: leader, line } = await SpawnedProcess.waitForAny(
    instances,
    /leading with fencing token \d+/,
    startupMs,
  );
  const follower = leader === instances[0] ? instances[1] : instances[0];
  return { leader, follower, token: tokenIn(line.text) };
}

/** What the leader-http example's `/leader` answers. */
interface LeaderBody {
  readonly leader: { readonly id: string; readonly value: string; readonly token: string } | null;
  readonly self: string;
}

function tokenIn(text: string): bigint {
  return BigInt(/token (\d+)/.exec(text)?.[1] ?? Number.NaN);
}

describe("examples", () => {
  const etcd = etcdForSuite();
  const etcdUrl = () => `etcd://${etcd().getHost()}:${etcd().getClientPort()}?ttl=${ttlMs / 1_000}`;

  it("singleton-cron: only the leader runs the job; stopped, it resigns and the other runs the next slot", async () => {
    const env = { ELECTOR_URL: etcdUrl(), EVERY_MS: "300" };
    await using one = example("singleton-cron", "one", env);
    await using two = example("singleton-cron", "two", env);
    const { leader, follower, token } = await leaderOf([one, two]);
    await leader.waitForLine(/ran the job for slot .* with token \d+$/, soonMs);
    const second = leader.lines.findLastIndex((line) => /ran the job/.test(line.text)) + 1;
    await leader.waitForLine(/ran the job for slot/, soonMs, second);
    expect(follower.output()).not.toMatch(/ran the job/);

    leader.kill("SIGTERM");
    const stoppedAt = performance.now();
    expect(await leader.waitForExit(soonMs)).toEqual({ code: 0, signal: null });
    expect(leader.output()).toMatch(/no longer leading \(resigned\)\n.*stopped\n$/);
    const took = await follower.waitForLine(/leading with fencing token \d+/, failoverBoundMs);
    expect(took.at - stoppedAt).toBeLessThan(failoverBoundMs);
    expect(tokenIn(took.text)).toBeGreaterThan(token);
    await follower.waitForLine(/ran the job for slot/, soonMs);

    // Each slot ran once, by one instance or the other.
    const slots = [leader, follower].flatMap((instance) =>
      instance.lines.flatMap((line) => /ran the job for slot (\S+)/.exec(line.text)?.[1] ?? []),
    );
    expect(new Set(slots).size).toBe(slots.length);
    follower.kill("SIGTERM");
    expect(await follower.waitForExit(soonMs)).toEqual({ code: 0, signal: null });
  });

  it("fenced-postgres: the successor's runs commit; a write with the old token is refused and inserts nothing", async () => {
    await using postgres = await new PostgreSqlContainer().start();
    const env = {
      ELECTOR_URL: etcdUrl(),
      DATABASE_URL: postgres.getConnectionUri(),
      EVERY_MS: "200",
    };
    await using one = example("fenced-postgres", "one", env);
    await using two = example("fenced-postgres", "two", env);
    const { leader, follower, token } = await leaderOf([one, two]);
    await leader.waitForLine(/recorded a billing run with token/, soonMs);

    leader.kill("SIGTERM");
    expect(await leader.waitForExit(soonMs)).toEqual({ code: 0, signal: null });
    const took = await follower.waitForLine(/leading with fencing token \d+/, failoverBoundMs);
    const newToken = tokenIn(took.text);
    expect(newToken).toBeGreaterThan(token);
    await follower.waitForLine(new RegExp(`recorded a billing run with token ${newToken}`), soonMs);

    const pool = new pg.Pool({ connectionString: postgres.getConnectionUri(), max: 1 });
    try {
      // The deposed leader's write, as if it had woken from a pause: refused, not inserted.
      const stale = await recordRun(new PostgresFence(pool), token, "deposed").catch(
        (error: unknown) => error,
      );
      expect(isStaleTokenError(stale), String(stale)).toBe(true);
      const { rows } = await pool.query<{ token: string; worker: string }>(
        "SELECT token::text, worker FROM billing_runs ORDER BY id",
      );
      expect(rows.some((row) => row.worker === "deposed")).toBe(false);
      const tokens = rows.map((row) => BigInt(row.token));
      expect(tokens).toEqual([...tokens].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(new Set(tokens)).toEqual(new Set([token, newToken]));
    } finally {
      await pool.end();
    }
    follower.kill("SIGTERM");
    expect(await follower.waitForExit(soonMs)).toEqual({ code: 0, signal: null });
  });

  it("leader-http: exactly one instance is ready; the leader killed, the other is ready and named by /leader within TTL + 1.5 s", async () => {
    const env = { ELECTOR_URL: etcdUrl(), PORT: "0" };
    await using one = example("leader-http", "one", env);
    await using two = example("leader-http", "two", env);
    const addressOf = async (instance: SpawnedProcess) =>
      /serving on (\S+)/.exec(
        (await instance.waitForLine(/serving on http:/, startupMs)).text,
      )?.[1] as string;
    const addresses = new Map([
      [one, await addressOf(one)],
      [two, await addressOf(two)],
    ]);
    const { leader, follower, token } = await leaderOf([one, two]);
    const [leaderAddress, followerAddress] = [addresses.get(leader), addresses.get(follower)];
    const status = async (address: string | undefined, path: string) =>
      (await fetch(`${address}${path}`)).status;
    expect(await status(leaderAddress, "/ready")).toBe(200);
    expect(await status(followerAddress, "/ready")).toBe(503);
    expect(await status(followerAddress, "/healthz")).toBe(200);
    const liveness = await (await fetch(`${leaderAddress}/healthz`)).json();
    expect(liveness).toMatchObject({ healthy: true, leading: true });
    const leaderId = leader === one ? "one" : "two";
    for (const address of [leaderAddress, followerAddress]) {
      await eventually("/leader names the leader", soonMs, async () => {
        const body = (await (await fetch(`${address}/leader`)).json()) as LeaderBody;
        expect(body.leader).toEqual({ id: leaderId, value: leaderAddress, token: String(token) });
      });
    }

    leader.killGroup("SIGKILL");
    const killedAt = performance.now();
    const took = await follower.waitForLine(/leading with fencing token \d+/, failoverBoundMs);
    expect(took.at - killedAt).toBeLessThan(failoverBoundMs);
    expect(await status(followerAddress, "/ready")).toBe(200);
    await eventually("/leader names the new leader", soonMs, async () => {
      const body = (await (await fetch(`${followerAddress}/leader`)).json()) as LeaderBody;
      expect(body.leader?.value).toBe(followerAddress);
    });
    follower.kill("SIGTERM");
    expect(await follower.waitForExit(soonMs)).toEqual({ code: 0, signal: null });
  });

  it("prometheus: scraped, elector_leader is 1 on the leader alone; the leader killed, the other's gauge and terms count follow", async () => {
    const env = { ELECTOR_URL: etcdUrl(), METRICS_PORT: "0" };
    await using one = example("prometheus", "one", env);
    await using two = example("prometheus", "two", env);
    const endpointOf = async (instance: SpawnedProcess) =>
      /metrics on (\S+)/.exec(
        (await instance.waitForLine(/metrics on http:/, startupMs)).text,
      )?.[1];
    const endpoints = new Map([
      [one, await endpointOf(one)],
      [two, await endpointOf(two)],
    ]);
    const scrape = async (instance: SpawnedProcess) => {
      const response = await fetch(endpoints.get(instance) as string);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
      return response.text();
    };
    const sample = (text: string, metric: string, id: string) =>
      Number(
        new RegExp(`^${metric}\\{[^}]*elector_candidate="${id}"[^}]*\\} (\\S+)$`, "m").exec(
          text,
        )?.[1],
      );
    const { leader, follower } = await leaderOf([one, two]);
    const [leaderId, followerId] = leader === one ? ["one", "two"] : ["two", "one"];
    await eventually("the leader's gauge is 1 and the follower's 0", soonMs, async () => {
      const [onLeader, onFollower] = [await scrape(leader), await scrape(follower)];
      expect(sample(onLeader, "elector_leader", leaderId)).toBe(1);
      expect(sample(onLeader, "elector_terms_total", leaderId)).toBe(1);
      expect(sample(onLeader, "elector_campaign_duration_count", leaderId)).toBe(1);
      expect(sample(onFollower, "elector_leader", followerId)).toBe(0);
    });

    leader.killGroup("SIGKILL");
    await follower.waitForLine(/leading with fencing token \d+/, failoverBoundMs);
    const after = await scrape(follower);
    expect(sample(after, "elector_leader", followerId)).toBe(1);
    expect(sample(after, "elector_terms_total", followerId)).toBe(1);
    expect(sample(after, "elector_handoff_duration_count", followerId)).toBe(1);
    follower.kill("SIGTERM");
    expect(await follower.waitForExit(soonMs)).toEqual({ code: 0, signal: null });
  });

  describe("swap-backends", () => {
    const run = async (url: string) => {
      await using instance = example("swap-backends", "example", { ELECTOR_URL: url });
      const exit = await instance.waitForExit(startupMs);
      return { exit, stdout: instance.output(), stderr: instance.output("stderr") };
    };
    const leads = (backend: string) =>
      new RegExp(
        `^backend: ${backend} \\(from .*\\)\\nleading on ${backend} with fencing token \\d+\\nleader\\(\\): example advertising "example"\\nresigned; leader\\(\\) is now null\\n$`,
      );

    it("runs the same program on memory and on etcd, chosen by ELECTOR_URL", async () => {
      const memory = await run("memory://");
      expect(memory.exit.code, memory.stderr).toBe(0);
      expect(memory.stdout).toMatch(leads("memory"));
      const onEtcd = await run(etcdUrl());
      expect(onEtcd.exit.code, onEtcd.stderr).toBe(0);
      expect(onEtcd.stdout).toMatch(leads("etcd"));
    });

    it("runs the same program on ZooKeeper", async () => {
      await using zookeeper = await new ZooKeeperContainer().start();
      const onZk = await run(`zk://${zookeeper.getConnectionString()}/swap-backends`);
      expect(onZk.exit.code, onZk.stderr).toBe(0);
      expect(onZk.stdout).toMatch(leads("zookeeper"));
    });

    it("exits 2 with the library's message for a misspelt setting", async () => {
      const result = await run("etcd://127.0.0.1:2379?tll=5");
      expect(result.exit.code).toBe(2);
      expect(result.stderr).toBe(
        'cannot use ELECTOR_URL: url must be a URL without the unknown setting "tll", got "etcd://127.0.0.1:2379?tll=5"\n',
      );
    });
  });
});
