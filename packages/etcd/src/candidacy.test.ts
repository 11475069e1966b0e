import { type LossReason, silentLogger } from "@elector/core";
import type { TermControl } from "@elector/core/backend";
import { GRPCUnavailableError } from "etcd3";
import { describe, expect, it } from "vitest";
import type { CampaignSettings } from "./campaign-client.js";
import { Candidacy } from "./candidacy.js";
import { CandidateKeyLostError } from "./candidate-key.js";
import { FakeEtcd, FakeKeeper } from "./fake-etcd.test-support.js";
import { electionKeys } from "./keys.js";
import { LineWatch } from "./line-watch.js";

const flush = async () => {
  for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
};

/** A term as core's would be, recording what the driver tells it. */
class RecordingTerm implements TermControl {
  readonly #controller = new AbortController();
  readonly deadlines: number[] = [];
  suspended: string | undefined;

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get reason(): LossReason | undefined {
    return (this.signal.reason as { code?: LossReason } | undefined)?.code;
  }

  extendDeadline(at: number): void {
    this.deadlines.push(at);
  }

  nameDeadlineLoss(): void {}

  predecessorGone(): void {}

  lose(reason: LossReason, message: string, cause?: unknown): void {
    if (this.signal.aborted) return;
    this.#controller.abort(Object.assign(new Error(message, { cause }), { code: reason }));
  }

  suspend(cause: string): void {
    this.suspended ??= cause;
  }

  resume(): void {
    this.suspended = undefined;
  }
}

function setup(id = "me", watchOrderKept = true) {
  const etcd = new FakeEtcd();
  const keeper = new FakeKeeper();
  const keys = electionKeys("", "e");
  const lineWatch = new LineWatch(
    (range, listener, signal) => etcd.watchRange(range, listener, signal),
    keys.candidates,
    silentLogger,
  );
  const settings: CampaignSettings = {
    campaignClient: etcd,
    keeper,
    keys,
    lineWatch,
    watchOrderKept: () => watchOrderKept,
    id,
    ttlSeconds: 3,
    safetyMarginMs: 500,
    requestTimeoutMs: 1000,
    logger: silentLogger,
  };
  const campaign = (value = "v", signal = new AbortController().signal) => {
    const term = new RecordingTerm();
    // As core links them: the campaign ends with the term.
    const linked = AbortSignal.any([signal, term.signal]);
    const run = new Candidacy(settings, { value, signal: linked, term }).run();
    run.catch(() => {});
    return { term, run };
  };
  /** The transactions sent so far: the join, each re-check, each proclaim. */
  const txns = () => etcd.sent.filter((request) => request.method === "txn").length;
  /** The own candidate key of the campaign whose lease was granted `nth` (from 0). */
  const ownKey = (nth = 0) => `e/${BigInt([...keeper.kept.keys()][nth] ?? "0").toString(16)}`;
  return { etcd, keeper, settings, campaign, txns, ownKey, lineWatch };
}

describe("Candidacy", () => {
  it("grants a lease, creates both keys on it, and leads with the key's create revision as its token", async () => {
    const { etcd, keeper, campaign } = setup();
    const { term, run } = campaign("v1");
    const elected = await run;
    const [lease] = [...keeper.kept.keys()];
    const hex = BigInt(lease ?? "0").toString(16);
    expect(etcd.keys()).toEqual([`e#id/${hex}`, `e/${hex}`]);
    expect(etcd.entries.get(`e/${hex}`)?.value.toString()).toBe("v1");
    expect(etcd.entries.get(`e#id/${hex}`)?.value.toString()).toBe("me");
    expect(elected.token).toBe(etcd.entries.get(`e/${hex}`)?.create);
    expect(term.deadlines).toHaveLength(1);
    expect(etcd.watches).toBe(1);
  });

  it("waits behind its predecessor, and leads once the predecessor's key is deleted", async () => {
    const { etcd, campaign } = setup();
    etcd.put("e/ffff", "go", "7");
    const { run } = campaign();
    let elected = false;
    run.then(() => {
      elected = true;
    });
    await flush();
    expect(elected).toBe(false);
    etcd.delete("e/ffff");
    await flush();
    expect(elected).toBe(true);
    // The election's one watch stays open for the next campaign.
    expect(etcd.watches).toBe(1);
  });

  it("leads at the delete of a predecessor that was the head of the line, with no re-check", async () => {
    const { etcd, campaign, txns } = setup();
    etcd.put("e/ffff", "go", "7");
    const { run } = campaign();
    await flush();
    expect(txns()).toBe(1);
    etcd.delete("e/ffff");
    await run;
    expect(txns()).toBe(1);
  });

  it("re-checks after the head's delete on a server that may drop a watcher's changes", async () => {
    const { etcd, campaign, txns } = setup("me", false);
    etcd.put("e/ffff", "go", "7");
    const { run } = campaign();
    await flush();
    etcd.delete("e/ffff");
    await run;
    expect(txns()).toBe(2);
  });

  it("re-checks after a predecessor that was not the head goes, then leads at the head's delete with no second re-check", async () => {
    const { etcd, campaign, txns } = setup();
    etcd.put("e/aaaa", "first", "7");
    etcd.put("e/ffff", "second", "8");
    const { run } = campaign();
    let elected = false;
    run.then(() => {
      elected = true;
    });
    await flush();
    etcd.delete("e/ffff");
    await flush();
    expect(txns()).toBe(2);
    expect(elected).toBe(false);
    etcd.delete("e/aaaa");
    await flush();
    expect(elected).toBe(true);
    expect(txns()).toBe(2);
  });

  it("sees a predecessor's delete that came before the join's answer", async () => {
    const { etcd, campaign, txns } = setup();
    etcd.put("e/ffff", "go", "7");
    etcd.holding.add("txn");
    const { run } = campaign();
    await flush();
    etcd.holding.delete("txn");
    // Applied now; the delete's event reaches the campaign before the join's answer does.
    etcd.held.shift()?.answer();
    etcd.delete("e/ffff");
    await run;
    expect(txns()).toBe(1);
  });

  it("is never elected when its own key is deleted in the revision before its predecessor's", async () => {
    const { etcd, campaign, txns, ownKey } = setup();
    etcd.put("e/ffff", "go", "7");
    const { term, run } = campaign();
    await flush();
    // Both events reach the campaign in one burst, as from a stream that lagged behind.
    etcd.holdEvents();
    etcd.delete(ownKey());
    etcd.delete("e/ffff");
    etcd.deliver();
    await expect(run).rejects.toMatchObject({ code: "deleted" });
    expect(term.reason).toBe("deleted");
    expect(txns()).toBe(1);
  });

  it("is never elected when its own key and its predecessor are deleted in one revision", async () => {
    const { etcd, campaign, ownKey } = setup();
    etcd.put("e/ffff", "go", "7");
    const { run } = campaign();
    await flush();
    etcd.delete("e/ffff", ownKey());
    await expect(run).rejects.toMatchObject({ code: "deleted" });
  });

  it("re-checks after the election's watch is interrupted, on a new watch opened before the re-check", async () => {
    const { etcd, campaign, txns } = setup();
    etcd.put("e/ffff", "go", "7");
    const { run } = campaign();
    await flush();
    etcd.interruptWatches();
    await flush();
    expect(txns()).toBe(2);
    expect(etcd.watchesCreated).toBe(2);
    // The re-check found the predecessor at the head again: its delete alone elects.
    etcd.delete("e/ffff");
    await run;
    expect(txns()).toBe(2);
  });

  it("re-checks, and leads at a re-check, when the watch breaks after the predecessor's delete was missed", async () => {
    const { etcd, campaign, txns } = setup();
    etcd.put("e/ffff", "go", "7");
    const { run } = campaign();
    await flush();
    etcd.holdEvents();
    etcd.delete("e/ffff");
    // The delete's event is lost with the stream.
    etcd.interruptWatches();
    etcd.deliver();
    await run;
    expect(txns()).toBe(2);
  });

  it("follows a leader's key on a new watch after an interruption: a later write by someone else ends the term", async () => {
    const { etcd, keeper, campaign, ownKey } = setup();
    const { term, run } = campaign();
    await run;
    etcd.interruptWatches();
    await flush();
    expect(etcd.watchesCreated).toBe(2);
    expect(term.signal.aborted).toBe(false);
    etcd.put(ownKey(), "intruder", [...keeper.kept.keys()][0]);
    await flush();
    expect(term.reason).toBe("deleted");
  });

  it("opens the election's watch once: the next campaign starts on it", async () => {
    const { etcd, campaign } = setup();
    const first = await campaign().run;
    await first.release(new AbortController().signal);
    await campaign().run;
    expect(etcd.watchesCreated).toBe(1);
  });

  it("keeps the term when a proclaim is applied but its answer is lost, and the watch shows its put", async () => {
    const { etcd, campaign } = setup();
    const { term, run } = campaign("v1");
    const elected = await run;
    etcd.holding.add("txn");
    const proclaim = elected.proclaim("v2", new AbortController().signal);
    await flush();
    etcd.held.shift()?.applyAndFail(new GRPCUnavailableError("14 UNAVAILABLE: connection reset"));
    await expect(proclaim).rejects.toMatchObject({ code: "connection-failed" });
    await flush();
    expect(term.signal.aborted).toBe(false);
    expect(term.suspended).toBeUndefined();
  });

  it("ends the term with 'deleted' when someone else writes the leader's key with its lease", async () => {
    const { etcd, keeper, campaign } = setup();
    const { term, run } = campaign("v1");
    await run;
    const [lease] = [...keeper.kept.keys()];
    const key = `e/${BigInt(lease ?? "0").toString(16)}`;
    etcd.put(key, "intruder", lease);
    await flush();
    expect(term.reason).toBe("deleted");
  });

  it("ends the term at the delete of its key, before etcd answers whether the lease went too, which follows in the cause", async () => {
    const { etcd, keeper, campaign } = setup();
    const { term, run } = campaign();
    await run;
    etcd.holding.add("leaseTimeToLive");
    etcd.revoke([...keeper.kept.keys()][0] ?? "");
    // At the event itself: no request stands between the delete and the abort.
    expect(term.reason).toBe("deleted");
    const cause = (term.signal.reason as Error).cause as CandidateKeyLostError;
    expect(cause).toBeInstanceOf(CandidateKeyLostError);
    expect(cause.leaseGone).toBeUndefined();
    await flush();
    etcd.held.shift()?.answer();
    await cause.checked;
    expect(cause.leaseGone).toBe(true);
  });

  it("fails a waiting campaign whose lease is revoked with 'lease-expired'", async () => {
    const { etcd, keeper, campaign } = setup();
    etcd.put("e/ffff", "go", "7");
    const { term, run } = campaign();
    await flush();
    etcd.revoke([...keeper.kept.keys()][0] ?? "");
    await expect(run).rejects.toMatchObject({ code: "lease-expired" });
    expect(term.reason).toBe("lease-expired");
  });

  it("revokes the lease on release: both keys go, and the keep-alives stop", async () => {
    const { etcd, keeper, campaign } = setup();
    const { run } = campaign();
    const elected = await run;
    await elected.release(new AbortController().signal);
    await flush();
    expect(etcd.keys()).toEqual([]);
    expect(keeper.kept.size).toBe(0);
  });

  it("revokes the lease when the campaign is aborted while it waits", async () => {
    const { etcd, keeper, campaign } = setup();
    etcd.put("e/ffff", "go", "7");
    const controller = new AbortController();
    const { run } = campaign("v", controller.signal);
    await flush();
    controller.abort();
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
    await flush();
    expect(etcd.keys()).toEqual(["e/ffff"]);
    expect(keeper.kept.size).toBe(0);
  });

  it("writes nothing for a proclaim whose signal had already aborted", async () => {
    const { etcd, campaign } = setup();
    const { run } = campaign("v1");
    const elected = await run;
    const sent = etcd.sent.length;
    await expect(elected.proclaim("v2", AbortSignal.abort())).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(etcd.sent.length).toBe(sent);
  });

  it("waits for a lease grant under way when the campaign is given up, and revokes it before rejecting", async () => {
    const { etcd, campaign } = setup();
    etcd.holding.add("leaseGrant");
    const controller = new AbortController();
    const { run } = campaign("v", controller.signal);
    let settled = false;
    run.then(
      () => {},
      () => {
        settled = true;
      },
    );
    await flush();
    controller.abort();
    await flush();
    // The grant is still under way: rejecting now would let close() close the client first.
    expect(settled).toBe(false);
    etcd.held.shift()?.answer();
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
    expect(etcd.leases.size).toBe(0);
    expect(etcd.sent.map((request) => request.method)).toEqual(["leaseGrant", "leaseRevoke"]);
  });
});
