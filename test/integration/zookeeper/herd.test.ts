import type { Leadership } from "@elector/core";
import { createZooKeeperElector, type ZooKeeperElector } from "@elector/zookeeper";
import { describe, expect, it } from "vitest";
import { eventually } from "../../support/eventually.js";
import { zooKeeperForSuite } from "../../support/suite-servers.js";
import { type LogLine, recordingLogger } from "./support.js";
import { ZooKeeperInspector } from "./zookeeper-faults.js";

const candidates = 50;
const sessionTimeoutMs = 4000;
const containerCheckMs = 500;
const serverJvmFlags = "-Dsun.net.inetaddr.ttl=0 -XX:+UseSerialGC";

/** `wchc`: the paths each session watches, by session id (hex, without 0x). */
function parseWatchesBySession(wchc: string): Map<string, string[]> {
  const sessions = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of wchc.split("\n")) {
    if (line.startsWith("0x")) {
      current = [];
      sessions.set(line.trim().slice(2), current);
    } else if (line.trim() !== "" && current !== undefined) {
      current.push(line.trim());
    }
  }
  return sessions;
}

/** `wchs`: how many paths are watched, and how many watches there are in all. */
function parseWatchSummary(wchs: string): { paths: number; watches: number } {
  const paths = /watching (\d+) paths/.exec(wchs)?.[1];
  const watches = /Total watches:(\d+)/.exec(wchs)?.[1];
  if (paths === undefined || watches === undefined) throw new Error(`unexpected wchs: ${wchs}`);
  return { paths: Number(paths), watches: Number(watches) };
}

describe("the ZooKeeper elector's herd behaviour", () => {
  const started = zooKeeperForSuite({
    // The harness's JVM flags, plus a container check every half second (default: 60 s).
    environment: {
      SERVER_JVMFLAGS: `${serverJvmFlags} -Dznode.container.checkIntervalMs=${containerCheckMs}`,
    },
  });

  it(`wakes two of ${candidates} candidates per handoff (the successor, and through its "elected" mark the one behind it), the server holds one watch per candidate node plus one per waiting candidate, and the election node goes with the last candidate`, async () => {
    const server = started();
    const election = `herd-${process.pid}-${Date.now().toString(36)}`;
    const lines: LogLine[] = [];
    await using inspector = await ZooKeeperInspector.open(server.getConnectionString());
    const electors: ZooKeeperElector[] = [];
    try {
      for (let index = 0; index < candidates; index++) {
        electors.push(
          await createZooKeeperElector({
            servers: [server.getConnectionString()],
            sessionTimeoutMs,
            election,
            id: `c${String(index).padStart(2, "0")}`,
            logger: recordingLogger(lines),
          }),
        );
      }
      const campaigns = new Map<string, Promise<Leadership>>();
      for (const elector of electors) campaigns.set(elector.id, elector.campaign());
      const first = electors[0] as ZooKeeperElector;
      const line = await eventually(
        "every candidate stands in line",
        sessionTimeoutMs * 2,
        async () => {
          const nodes = await inspector.nodes(first.electionPath);
          expect(nodes).toHaveLength(candidates);
          return nodes;
        },
      );
      const byId = new Map(electors.map((elector) => [elector.id, elector]));

      // Server side: each session watches its own node and, unless it leads, its immediate
      // predecessor; nobody watches the election node.
      const watched = parseWatchesBySession(await server.fourLetterWord("wchc"));
      line.forEach((node, position) => {
        const session = byId.get(node.id)?.sessionId ?? "";
        const expected = [node.name];
        const predecessor = line[position - 1];
        if (predecessor !== undefined) expected.push(predecessor.name);
        expect(
          (watched.get(session) ?? [])
            .map((path) => path.slice(first.electionPath.length + 1))
            .sort(),
          `watches of ${node.id}`,
        ).toEqual(expected.sort());
      });
      expect([...watched.values()].flat()).not.toContain(first.electionPath);
      expect(parseWatchSummary(await server.fourLetterWord("wchs"))).toEqual({
        paths: candidates,
        watches: 2 * candidates - 1,
      });

      // Client side: each handoff delivers the predecessor's deletion to the next in line, and
      // the new leader's mark to itself (its own node's watch) and to the one behind it; no
      // one else hears of it.
      const watchEvents = (from: number) =>
        lines
          .slice(from)
          .filter((entry) => entry.message === "watch event")
          .map((entry) => `${String(entry.bindings.id)} ${String(entry.fields.event)}`)
          .sort();
      for (let position = 0; position < candidates - 1; position++) {
        const current = line[position];
        const next = line[position + 1];
        if (current === undefined || next === undefined) throw new Error("line too short");
        const leadership = await (campaigns.get(current.id) as Promise<Leadership>);
        const mark = lines.length;
        await leadership.resign();
        const successor = await (campaigns.get(next.id) as Promise<Leadership>);
        expect(successor.token, `token of ${next.id}`).toBe(BigInt(next.czxid));
        const behind = line[position + 2];
        const expected = [`${next.id} changed`, `${next.id} deleted`];
        if (behind !== undefined) expected.push(`${behind.id} changed`);
        // The mark is written after "elected", and the watches it fired are set again after
        // that: wait for both, within the session timeout.
        const remaining = candidates - position - 1;
        await eventually(
          `handoff ${current.id} → ${next.id} settles`,
          sessionTimeoutMs,
          async () => {
            expect(watchEvents(mark)).toEqual(expected.sort());
            expect(parseWatchSummary(await server.fourLetterWord("wchs"))).toEqual({
              paths: remaining,
              watches: 2 * remaining - 1,
            });
          },
        );
      }
      const last = line[candidates - 1];
      await (await (campaigns.get(last?.id ?? "") as Promise<Leadership>)).resign();
      expect(await inspector.nodes(first.electionPath)).toEqual([]);
      // The election node is a container: the server removes it once it is empty.
      await eventually("the empty election node is removed", containerCheckMs * 10, async () => {
        expect(await inspector.client.exists(first.electionPath)).toBeUndefined();
      });
    } finally {
      await Promise.all(electors.map((elector) => elector.close()));
    }
  });
});
