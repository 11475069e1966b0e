// Issue 11, defect 6: once an election node's child counter (its cversion, an int32) reaches
// 2^31 - 1, the server names every new sequential child `…-n_2147483647` (or with a negative
// number when creates are pipelined), so names no longer order the line.
//
// Reaching that counter for real takes two billion child changes. The server here is a local
// standalone ZooKeeper (Debian's jars, see crafted-zookeeper.java) whose test sets the
// election node's cversion in the server's memory: from then on the server names and orders
// everything itself, exactly as it would after two billion creates.
import type { Leadership } from "@elector/core";
import { createZooKeeperElector, ZooKeeperSequenceExhaustedError } from "@elector/zookeeper";
import { describe, expect, it } from "vitest";
import { settledWithin } from "../../support/eventually.js";
import { craftedZooKeeperForSuite } from "../../support/suite-servers.js";

const sessionTimeoutMs = 4000;
// A campaign on a live server takes a few round trips; one that is still pending after a
// session timeout waits in line.
const settleMs = sessionTimeoutMs;
const lastUsable = 2 ** 31 - 2;

describe("the ZooKeeper elector on an election node whose sequence numbers run out", () => {
  const started = craftedZooKeeperForSuite();
  let elections = 0;

  /** A fresh election whose node exists and will name its next child `sequence`. */
  const electionAt = async (sequence: number) => {
    const name = `saturation-${++elections}`;
    const path = `/elector/${name}`;
    await started()
      .inspector.client.create("/elector", Buffer.alloc(0), "persistent")
      .catch(() => {});
    await started().inspector.client.create(path, Buffer.alloc(0), "persistent");
    await started().zookeeper.setChildVersion(path, sequence);
    return { name, path };
  };
  const electorOf = (election: string, id: string) =>
    createZooKeeperElector({
      servers: [started().zookeeper.connectionString],
      sessionTimeoutMs,
      election,
      id,
    });
  const names = async (path: string) =>
    (await started().inspector.client.getChildren(path)).children;

  it("hands out ever greater tokens to one leader at a time, refuses candidates whose nodes got used-up sequences, and starts a new counter once the line is empty", async () => {
    const { name, path } = await electionAt(lastUsable - 1);
    const electors = await Promise.all(
      ["first", "second", "c", "d", "e", "f", "renewer"].map((id) => electorOf(name, id)),
    );
    const [first, second, ...rest] = electors;
    const renewer = rest.pop();
    if (first === undefined || second === undefined || renewer === undefined) throw new Error();
    try {
      const terms: { id: string; leadership: Leadership }[] = [];
      const elected = (id: string) => (leadership: Leadership) => {
        // One leader at a time: every earlier term has ended when a new one starts.
        expect(
          terms.filter((term) => term.leadership.isActive()).map((term) => term.id),
          `active when ${id} was elected`,
        ).toEqual([]);
        terms.push({ id, leadership });
        return leadership;
      };
      const firstTerm = await first.campaign({ value: "1" }).then(elected("first"));
      // The last usable sequence: this one waits in line as ever.
      const secondCampaign = second.campaign({ value: "2" }).then(elected("second"));
      // Awaited below; if an assertion fails first, close() rejects it.
      secondCampaign.catch(() => {});
      await expect.poll(() => names(path)).toHaveLength(2);
      // Four more get 2147483647, the counter's end.
      const late = rest.map((elector) =>
        elector.campaign({ value: elector.id }).then(elected(elector.id)),
      );
      const outcomes = await Promise.all(late.map((campaign) => settledWithin(campaign, settleMs)));
      for (const outcome of outcomes) {
        expect(outcome.state).toBe("rejected");
        if (outcome.state !== "rejected") continue;
        expect(outcome.reason).toBeInstanceOf(ZooKeeperSequenceExhaustedError);
        expect(outcome.reason).toMatchObject({ retryable: true, electionPath: path });
        // The counter's end, or past it when the server had creates in its pipeline.
        const { sequence } = outcome.reason as ZooKeeperSequenceExhaustedError;
        expect(sequence === 2 ** 31 - 1 || sequence < 0, `sequence ${sequence}`).toBe(true);
      }
      // Nothing of theirs is left: the two usable nodes alone.
      expect((await names(path)).map((child) => child.slice(-10)).sort()).toEqual([
        String(lastUsable - 1),
        String(lastUsable),
      ]);

      await firstTerm.resign();
      const secondTerm = await secondCampaign;
      await secondTerm.resign();
      expect(await names(path)).toEqual([]);
      // The election node is empty and its counter used up: the next campaign re-creates it.
      const renewed = await renewer.campaign({ value: "r" }).then(elected("renewer"));
      expect((await names(path)).map((child) => child.slice(-13))).toEqual(["-n_0000000000"]);

      const tokens = terms.map((term) => term.leadership.token);
      expect(terms.map((term) => term.id)).toEqual(["first", "second", "renewer"]);
      expect([...tokens].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(tokens);
      expect(new Set(tokens).size).toBe(tokens.length);
      await renewed.resign();
    } finally {
      await Promise.all(electors.map((elector) => elector.close()));
    }
  });

  it("never elects a newcomer beside a sitting leader whose node got the counter's last value, and leaves no node of its own", async () => {
    // The sitting leader is a candidate of a version that ordered by name and led on
    // `…-n_2147483647`; newcomers get the same number, and a name order would tie.
    const { name, path } = await electionAt(2 ** 31 - 1);
    const sitting = (await started().inspector.client.create(
      `${path}/00000000-0000-4000-8000-000000000000-n_`,
      Buffer.from(JSON.stringify({ id: "sitting", value: "s" })),
      "ephemeralSequential",
    )) as string;
    expect(sitting.endsWith("-n_2147483647")).toBe(true);
    const newcomers = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((n) => electorOf(name, `newcomer-${n}`)),
    );
    try {
      const outcomes = await Promise.all(
        newcomers.map((elector) =>
          settledWithin(elector.campaign({ value: elector.id }), settleMs),
        ),
      );
      expect(
        outcomes.flatMap((outcome, index) => (outcome.state === "fulfilled" ? [index + 1] : [])),
        "newcomers elected beside the sitting leader",
      ).toEqual([]);
      for (const [index, outcome] of outcomes.entries()) {
        expect(outcome.state, `campaign of newcomer-${index + 1}`).toBe("rejected");
        if (outcome.state === "rejected") {
          expect(outcome.reason).toBeInstanceOf(ZooKeeperSequenceExhaustedError);
        }
      }
      expect(await names(path)).toEqual([sitting.slice(path.length + 1)]);
    } finally {
      await Promise.all(newcomers.map((elector) => elector.close()));
      await started().inspector.client.delete(sitting);
    }
  });
});
