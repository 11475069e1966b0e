import { afterEach, describe, expect, it } from "vitest";
import { DrivenElector } from "./driven-elector.js";
import {
  type CampaignRequest,
  type ElectedTerm,
  type ElectionDriver,
  now,
  type TermControl,
} from "./driver.js";
import { ElectorClosedError } from "./errors.js";
import { silentLogger } from "./logger.js";

/** A driver whose keys are a Set and whose failures a test chooses. */
class ScriptedDriver implements ElectionDriver {
  readonly backend = "scripted";
  readonly keys = new Set<bigint>();
  term: TermControl | undefined;
  failReleases = 0;
  hangReleases = false;
  releasesInFlight = 0;
  closedDuringRelease = false;
  holdCampaign: Promise<void> | undefined;
  deadlineOffsetMs = 10_000;
  #tokens = 0n;

  async campaign(request: CampaignRequest): Promise<ElectedTerm> {
    request.signal.throwIfAborted();
    this.#tokens += 1n;
    const token = this.#tokens;
    this.keys.add(token);
    this.term = request.term;
    request.term.extendDeadline(now() + this.deadlineOffsetMs);
    try {
      await Promise.race([
        this.holdCampaign ?? Promise.resolve(),
        new Promise((_, reject) =>
          request.signal.addEventListener("abort", () => reject(request.signal.reason)),
        ),
      ]);
    } catch (error) {
      this.keys.delete(token);
      throw error;
    }
    return {
      token,
      proclaim: async () => {},
      release: async () => {
        this.releasesInFlight++;
        try {
          await new Promise((resolve) => setTimeout(resolve, 5));
          if (this.hangReleases) await new Promise(() => {});
          if (this.failReleases > 0) {
            this.failReleases--;
            throw new Error("network down");
          }
          this.keys.delete(token);
        } finally {
          this.releasesInFlight--;
        }
      },
    };
  }

  async participants() {
    return [...this.keys].map((token) => ({ id: "me", value: "me", token, leader: false }));
  }

  watchLeader(): void {}

  async close(): Promise<void> {
    if (this.releasesInFlight > 0) this.closedDuringRelease = true;
  }
}

const open: DrivenElector[] = [];

function scripted(): { elector: DrivenElector; driver: ScriptedDriver } {
  let driver: ScriptedDriver | undefined;
  const elector = new DrivenElector({ election: "e", id: "me", logger: silentLogger }, () => {
    driver = new ScriptedDriver();
    return driver;
  });
  open.push(elector);
  return { elector, driver: driver as unknown as ScriptedDriver };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((elector) => elector.close()));
});

describe("DrivenElector", () => {
  it("lets twenty reads wait at once without a listener-leak warning on its close signal", async () => {
    const { elector } = scripted();
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    try {
      await Promise.all(Array.from({ length: 20 }, () => elector.participants()));
      // Node emits the warning on a later tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings).not.toContain("MaxListenersExceededWarning");
  });

  it("does not resolve a campaign that an elected listener aborted, and deletes its key", async () => {
    const { elector, driver } = scripted();
    const controller = new AbortController();
    elector.on("elected", () => controller.abort());
    await expect(elector.campaign({ signal: controller.signal })).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(driver.keys.size).toBe(0);
  });

  it("does not resolve a campaign after an elected listener closed the elector", async () => {
    const { elector, driver } = scripted();
    elector.on("elected", () => void elector.close());
    await expect(elector.campaign()).rejects.toBeInstanceOf(ElectorClosedError);
    expect(driver.keys.size).toBe(0);
  });

  it("never reports a campaign won after its deadline, and tells no loss for it", async () => {
    const { elector, driver } = scripted();
    const events: string[] = [];
    elector.on("elected", () => events.push("elected"));
    elector.on("lost", () => events.push("lost"));
    // As if the process paused between the last renewal and the win.
    driver.deadlineOffsetMs = -1;
    await expect(elector.campaign()).rejects.toMatchObject({ code: "deadline-passed" });
    expect(events).toEqual([]);
    expect(driver.keys.size).toBe(0);
  });

  it("ends a term whose deadline passes with the loss the driver named, by the timer and by isActive()", async () => {
    const { elector, driver } = scripted();
    driver.deadlineOffsetMs = 60;
    const byTimer = await elector.campaign();
    driver.term?.nameDeadlineLoss("connection-lost", () => "the server went quiet");
    await new Promise((resolve) => byTimer.signal.addEventListener("abort", resolve));
    expect(byTimer.signal.reason).toMatchObject({ code: "connection-lost" });
    expect(String(byTimer.signal.reason.message)).toMatch(/^the server went quiet/);

    const byCheck = await elector.campaign();
    driver.term?.nameDeadlineLoss("connection-lost", () => "the server went quiet");
    // Blocks the loop past the deadline, as a GC pause would: the timer cannot run first.
    const until = now() + driver.deadlineOffsetMs + 20;
    while (now() < until) {}
    expect(byCheck.isActive()).toBe(false);
    expect(byCheck.signal.reason).toMatchObject({ code: "connection-lost" });
  });

  it("gives up a campaign whose deadline passes before it is won, with the named loss and no lost event", async () => {
    const { elector, driver } = scripted();
    const events: string[] = [];
    elector.on("lost", () => events.push("lost"));
    driver.deadlineOffsetMs = 50;
    driver.holdCampaign = new Promise(() => {});
    const campaign = elector.campaign();
    await new Promise((resolve) => setTimeout(resolve, 1));
    driver.term?.nameDeadlineLoss("connection-lost", () => "the server went quiet");
    await expect(campaign).rejects.toMatchObject({ code: "connection-lost" });
    expect(events).toEqual([]);
    expect(driver.keys.size).toBe(0);
  });

  it("refuses a second campaign while the driver's first one has not settled", async () => {
    const { elector, driver } = scripted();
    driver.holdCampaign = new Promise(() => {});
    const first = elector.campaign();
    await new Promise((resolve) => setTimeout(resolve, 1));
    driver.term?.lose("deleted", "someone deleted the key");
    await expect(elector.campaign()).rejects.toMatchObject({ code: "campaign-in-progress" });
    await expect(first).rejects.toMatchObject({ code: "deleted" });
  });

  it("resolves resign() at once after a loss, even while the key's deletion hangs", async () => {
    const { elector, driver } = scripted();
    const leadership = await elector.campaign();
    driver.hangReleases = true;
    driver.term?.lose("lease-expired", "the server says so");
    await expect(leadership.resign()).resolves.toBeUndefined();
    driver.hangReleases = false;
  });

  it("tries a failed deletion again on close, and closes the driver only after it", async () => {
    const { elector, driver } = scripted();
    const errors: Error[] = [];
    elector.on("error", (error) => errors.push(error));
    const leadership = await elector.campaign();
    driver.failReleases = 1;
    await expect(leadership.resign()).rejects.toThrow("network down");
    expect(driver.keys.size).toBe(1);
    await elector.close();
    expect(driver.keys.size).toBe(0);
    expect(driver.closedDuringRelease).toBe(false);
    expect(errors).toEqual([]);
  });

  it("waits for the release that a loss started before it closes the driver", async () => {
    const { elector, driver } = scripted();
    await elector.campaign();
    driver.term?.lose("connection-lost", "gone");
    await elector.close();
    expect(driver.closedDuringRelease).toBe(false);
    expect(driver.keys.size).toBe(0);
  });

  it("ends an observation whose driver failed, and ends every observation on close", async () => {
    const { elector } = scripted();
    const observation = elector.observe();
    const next = observation.next();
    await elector.close();
    await expect(next).resolves.toEqual({ value: undefined, done: true });
  });
});
