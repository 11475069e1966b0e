import { isDeepStrictEqual } from "node:util";
import {
  type Elector,
  ElectorClosedError,
  type LeaderInfo,
  type Leadership,
  type LossReason,
  lead,
} from "@elector/core";
import { describe, expect, it } from "vitest";
import { electorsForSuite } from "../support/electors.js";
import { type SuiteResource, startedForSuite } from "../support/suite-servers.js";

/** One backend, as the conformance suite needs it. */
export interface ConformanceBackend {
  /** A new candidate in `election`. */
  create(election: string, id: string): Promise<Elector>;
  /** The TTL or session timeout the electors use, in milliseconds: time bounds derive from it. */
  readonly ttlMs: number;
  /**
   * Faults that end a term from outside, where the backend can inject them, with the reason
   * the leader must see.
   */
  readonly faults?: readonly {
    readonly name: string;
    readonly reason: LossReason;
    inject(elector: Elector, leadership: Leadership): Promise<void>;
  }[];
  /**
   * Cuts `elector` off so that its renewals stop reaching the server while the others keep
   * it, where the backend can: the leader must step down before a successor is elected.
   */
  silence?(elector: Elector): Promise<void>;
  /**
   * Whether `observe()` reports a value that was overwritten within one round trip. False on
   * ZooKeeper, whose watches fire once and carry no data: the read after the event finds only
   * the latest value. Such a backend must still report changes in order, each once, and end
   * on the current leader.
   *
   * @defaultValue true
   */
  readonly observesEveryValue?: boolean;
}

/**
 * The behaviour every backend must show. A backend is done when it passes this suite, not
 * when it has green tests of its own. A backend that needs servers names them as `servers`,
 * started once for the suite (see `startedForSuite`), and makes itself from their accessor.
 */
export function describeConformance(name: string, backend: ConformanceBackend): void;
export function describeConformance<T>(
  name: string,
  servers: SuiteResource<T>,
  backend: (started: () => T) => ConformanceBackend,
): void;
export function describeConformance<T>(
  name: string,
  serversOrBackend: SuiteResource<T> | ConformanceBackend,
  makeBackend?: (started: () => T) => ConformanceBackend,
): void {
  describe(`conformance: ${name}`, () => {
    const backend =
      makeBackend === undefined
        ? (serversOrBackend as ConformanceBackend)
        : makeBackend(startedForSuite(name, serversOrBackend as SuiteResource<T>));
    const closedAfterEach = electorsForSuite();
    let elections = 0;
    /** A fresh election name per test, so that tests never see each other's candidates. */
    const election = () => `conformance-${process.pid}-${Date.now().toString(36)}-${++elections}`;
    const candidates = async (electionName: string, count: number) => {
      const made: Elector[] = [];
      for (let index = 0; index < count; index++) {
        const elector = await backend.create(electionName, `candidate-${index}`);
        closedAfterEach(elector);
        made.push(elector);
      }
      return made;
    };
    /** Waits until `elector` sees `count` participants: the line is formed. */
    const lineOf = async (elector: Elector, count: number) => {
      const deadline = Date.now() + backend.ttlMs * 2;
      for (;;) {
        const participants = await elector.participants();
        if (participants.length === count) return participants;
        if (Date.now() > deadline) {
          throw new Error(`expected ${count} participants, saw ${participants.length}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };

    it("keeps five contending candidates mutually exclusive over many terms", async () => {
      const electors = await candidates(election(), 5);
      const ledger: { holder: string | undefined; terms: { id: string; token: bigint }[] } = {
        holder: undefined,
        terms: [],
      };
      const termsEach = 4;
      await Promise.all(
        electors.map(async (elector) => {
          for (let term = 0; term < termsEach; term++) {
            const leadership = await elector.campaign();
            expect(ledger.holder, "another candidate was leading").toBeUndefined();
            expect(leadership.isActive()).toBe(true);
            ledger.holder = elector.id;
            ledger.terms.push({ id: elector.id, token: leadership.token });
            await new Promise((resolve) => setTimeout(resolve, 2));
            expect(leadership.isActive()).toBe(true);
            ledger.holder = undefined;
            await leadership.resign();
          }
        }),
      );
      expect(ledger.terms).toHaveLength(5 * termsEach);
      const tokens = ledger.terms.map((term) => term.token);
      for (let index = 1; index < tokens.length; index++) {
        expect(tokens[index]).toBeGreaterThan(tokens[index - 1] as bigint);
      }
    });

    it("hands leadership over in FIFO order on resign", async () => {
      const name = election();
      const [a, b, c] = (await candidates(name, 3)) as [Elector, Elector, Elector];
      const order: string[] = [];
      const first = await a.campaign();
      order.push(a.id);
      const elected = (elector: Elector) => (leadership: Leadership) => {
        order.push(elector.id);
        return leadership;
      };
      const second = b.campaign().then(elected(b));
      await lineOf(a, 2);
      const third = c.campaign().then(elected(c));
      await lineOf(a, 3);
      expect((await a.participants()).map((participant) => participant.id)).toEqual([
        a.id,
        b.id,
        c.id,
      ]);
      await first.resign();
      await (await second).resign();
      await (await third).resign();
      expect(order).toEqual([a.id, b.id, c.id]);
    });

    it("gives every term a token strictly greater than the terms before it", async () => {
      const [a, b] = (await candidates(election(), 2)) as [Elector, Elector];
      const tokens: bigint[] = [];
      for (let round = 0; round < 3; round++) {
        for (const elector of [a, b]) {
          const leadership = await elector.campaign();
          tokens.push(leadership.token);
          const leader = await elector.leader();
          expect(leader).toEqual({ id: elector.id, value: elector.id, token: leadership.token });
          await leadership.resign();
        }
      }
      expect([...tokens].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))).toEqual(tokens);
      expect(new Set(tokens).size).toBe(tokens.length);
    });

    it("observes each change once and in order, including no leader", async () => {
      const name = election();
      const [watcher, a, b] = (await candidates(name, 3)) as [Elector, Elector, Elector];
      const controller = new AbortController();
      const seen: (LeaderInfo | undefined)[] = [];
      let wake: (() => void) | undefined;
      const observing = (async () => {
        for await (const leader of watcher.observe({ signal: controller.signal })) {
          seen.push(leader);
          wake?.();
        }
      })();
      const until = async (count: number) => {
        const deadline = Date.now() + backend.ttlMs * 2;
        while (seen.length < count) {
          if (Date.now() > deadline) throw new Error(`saw ${seen.length} of ${count} changes`);
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 50);
          });
        }
      };
      await until(1);
      const leaderA = await a.campaign({ value: "a-1" });
      await until(2);
      await leaderA.proclaim("a-2");
      await until(3);
      const pendingB = b.campaign({ value: "b-1" });
      await lineOf(watcher, 2);
      await leaderA.resign();
      const leaderB = await pendingB;
      await until(4);
      await leaderB.resign();
      await until(5);
      // One more change: had a repeat been queued, it would show up before this one.
      const leaderA2 = await a.campaign({ value: "a-3" });
      await until(6);
      controller.abort();
      await observing;
      expect(seen).toEqual([
        undefined,
        { id: a.id, value: "a-1", token: leaderA.token },
        { id: a.id, value: "a-2", token: leaderA.token },
        { id: b.id, value: "b-1", token: leaderB.token },
        undefined,
        { id: a.id, value: "a-3", token: leaderA2.token },
      ]);
    });

    it("observes a leader's every value, even one set at once by a leader of an empty line", async () => {
      const [watcher, a, b] = (await candidates(election(), 3)) as [Elector, Elector, Elector];
      const controller = new AbortController();
      const seen: (LeaderInfo | undefined)[] = [];
      const observing = (async () => {
        for await (const leader of watcher.observe({ signal: controller.signal })) {
          seen.push(leader);
        }
      })();
      const until = async (count: number) => {
        const deadline = Date.now() + backend.ttlMs * 2;
        while (seen.length < count) {
          if (Date.now() > deadline) throw new Error(`saw ${seen.length} of ${count} changes`);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      };
      await until(1);
      // Nothing here waits for the observer: a value may last no longer than one round trip.
      const leaderA = await a.campaign({ value: "a-1" });
      await leaderA.proclaim("a-2");
      await leaderA.resign();
      const leaderB = await b.campaign({ value: "b-1" });
      await leaderB.proclaim("b-2");
      const every = [
        undefined,
        { id: a.id, value: "a-1", token: leaderA.token },
        { id: a.id, value: "a-2", token: leaderA.token },
        undefined,
        { id: b.id, value: "b-1", token: leaderB.token },
        { id: b.id, value: "b-2", token: leaderB.token },
      ];
      if (backend.observesEveryValue === false) {
        // In order, each once, and ending on the current leader: a subsequence of every change.
        const deadline = Date.now() + backend.ttlMs * 2;
        while (seen.at(-1)?.value !== "b-2" && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        controller.abort();
        await observing;
        expect(seen.at(-1)).toEqual(every.at(-1));
        let next = 0;
        for (const change of seen) {
          while (next < every.length && !isDeepStrictEqual(every[next], change)) next++;
          expect(next, `${JSON.stringify(seen, stringifyBigInt)} in order`).toBeLessThan(
            every.length,
          );
          next++;
        }
        return;
      }
      await until(6);
      controller.abort();
      await observing;
      expect(seen).toEqual(every);
    });

    it("rejects a campaign aborted by its signal with an AbortError and leaves no participant", async () => {
      const [a, b] = (await candidates(election(), 2)) as [Elector, Elector];
      const leadership = await a.campaign();
      const controller = new AbortController();
      const waiting = b.campaign({ signal: controller.signal });
      await lineOf(a, 2);
      controller.abort();
      await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
      expect((await a.participants()).map((participant) => participant.id)).toEqual([a.id]);
      await expect(b.campaign({ signal: AbortSignal.abort() })).rejects.toMatchObject({
        name: "AbortError",
      });
      expect(await a.participants()).toHaveLength(1);
      // The aborted candidate may campaign again, and is elected when the leader resigns.
      const again = b.campaign();
      await lineOf(a, 2);
      await leadership.resign();
      expect((await again).isActive()).toBe(true);
    });

    it("settles every pending promise on close, is idempotent, and never elects after close", async () => {
      const [a, b] = (await candidates(election(), 2)) as [Elector, Elector];
      const leadership = await a.campaign();
      const observation = b.observe();
      await observation.next();
      const observationEnd = observation.next();
      let electedAfterClose = false;
      b.on("elected", () => {
        electedAfterClose = true;
      });
      const waiting = b.campaign();
      await lineOf(a, 2);
      const closing = b.close();
      expect(b.close()).toBe(closing);
      await expect(waiting).rejects.toBeInstanceOf(ElectorClosedError);
      await closing;
      expect(b.closed).toBe(true);
      await expect(observationEnd).resolves.toEqual({ value: undefined, done: true });
      await expect(b.campaign()).rejects.toBeInstanceOf(ElectorClosedError);
      await expect(b.leader()).rejects.toBeInstanceOf(ElectorClosedError);
      expect(await a.participants()).toHaveLength(1);
      await leadership.resign();
      expect(await a.leader()).toBeUndefined();
      expect(electedAfterClose).toBe(false);

      // Closing a leader ends its term with "closed" and lets the next one in.
      const [c, d] = (await candidates(election(), 2)) as [Elector, Elector];
      const leaderC = await c.campaign();
      const pendingD = d.campaign();
      await lineOf(c, 2);
      await c.close();
      expect(leaderC.signal.reason).toMatchObject({ code: "closed" });
      expect((await pendingD).isActive()).toBe(true);
    });

    it("aborts the leadership signal with the reason of the loss", async () => {
      const [a] = (await candidates(election(), 1)) as [Elector];
      const resigned = await a.campaign();
      await resigned.resign();
      expect(resigned.signal.aborted).toBe(true);
      expect(resigned.signal.reason).toMatchObject({
        name: "LeadershipLostError",
        code: "resigned",
      });
      expect(resigned.isActive()).toBe(false);
      await expect(resigned.proclaim("late")).rejects.toMatchObject({ code: "resigned" });

      for (const fault of backend.faults ?? []) {
        // A fresh candidate for each fault: a fault may leave its victim unfit to go on.
        const [victim] = (await candidates(election(), 1)) as [Elector];
        const lost: LossReason[] = [];
        victim.on("lost", ({ reason }) => lost.push(reason));
        const leadership = await victim.campaign();
        await fault.inject(victim, leadership);
        await waitForAbort(leadership.signal, backend.ttlMs * 2, fault.name);
        expect(leadership.signal.reason, fault.name).toMatchObject({ code: fault.reason });
        expect(lost, fault.name).toEqual([fault.reason]);
        expect(leadership.isActive(), fault.name).toBe(false);
        // Nothing is left behind: the line is empty again.
        await expect.poll(() => victim.participants(), { timeout: backend.ttlMs * 3 }).toEqual([]);
      }
    });

    it.runIf(backend.silence !== undefined)(
      "steps a leader cut off from the server down before its successor is elected",
      async () => {
        const [a, b] = (await candidates(election(), 2)) as [Elector, Elector];
        const order: string[] = [];
        a.on("lost", ({ reason }) => order.push(`a lost (${reason})`));
        b.on("elected", () => order.push("b elected"));
        const leadership = await a.campaign();
        const successor = b.campaign();
        await lineOf(a, 2);
        await backend.silence?.(a);
        const elected = await successor;
        expect(order[0]).toMatch(/^a lost/);
        expect(order).toContain("b elected");
        expect(leadership.isActive()).toBe(false);
        expect(elected.token).toBeGreaterThan(leadership.token);
      },
    );

    it("never lets lead() run work on two candidates at once", async () => {
      const electors = await candidates(election(), 3);
      const stop = new AbortController();
      const ledger = {
        holder: undefined as string | undefined,
        terms: 0,
        overlaps: 0,
        inactive: 0,
      };
      const target = 12;
      const runs = electors.map((elector) =>
        lead(
          elector,
          async (leadership) => {
            if (ledger.holder !== undefined) ledger.overlaps++;
            if (!leadership.isActive()) ledger.inactive++;
            ledger.holder = elector.id;
            ledger.terms++;
            if (ledger.terms >= target) stop.abort();
            await holdFor(1 + Math.floor(Math.random() * 5), leadership.signal);
            ledger.holder = undefined;
          },
          { signal: stop.signal, backoff: { minDelayMs: 1, maxDelayMs: 20 } },
        ),
      );
      await Promise.all(runs);
      expect(ledger.overlaps).toBe(0);
      expect(ledger.inactive).toBe(0);
      expect(ledger.terms).toBeGreaterThanOrEqual(target);
      expect(ledger.holder).toBeUndefined();
      await expect.poll(() => electors[0]?.participants(), { timeout: backend.ttlMs }).toEqual([]);
    });
  });
}

/** Holds for `ms`, or until the term ends. */
async function holdFor(ms: number, signal: AbortSignal): Promise<void> {
  await abortedWithin(signal, ms);
}

async function waitForAbort(signal: AbortSignal, timeoutMs: number, what: string): Promise<void> {
  if (!(await abortedWithin(signal, timeoutMs))) {
    throw new Error(`${what}: no loss within ${timeoutMs} ms`);
  }
}

/** Resolves with true once `signal` is aborted, or with false once `ms` have passed. */
function abortedWithin(signal: AbortSignal, ms: number): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      { once: true },
    );
  });
}

/** For messages: bigints as strings. */
function stringifyBigInt(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
