// Random interleavings of admits from many writers against a Fence, and the checks that say
// whether the store behaved like a fence: an atomic "admit if no lower than the highest".
import { type Fence, FencingToken, isStaleTokenError } from "@elector/fencing";
import fc from "fast-check";

/** One admit a writer makes. */
export interface Admit {
  readonly writer: number;
  readonly resource: string;
  readonly token: bigint;
  /** How many turns of the event loop the writer waits before it admits. */
  readonly delay: number;
}

/** How one admit ended, with logical start and end times. */
export interface Outcome extends Admit {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly accepted: boolean;
  /** For a refusal: the highest token that the StaleTokenError reported. */
  readonly highest?: bigint;
}

/** A fence under test, and the store's own record of what it accepted. */
export interface FenceUnderTest {
  readonly fence: Fence;
  /**
   * Every token the store recorded for `resource`, in the order it recorded them: the
   * history of the high-water mark, read from the store itself (not from the outcomes).
   */
  history(resource: string): Promise<bigint[]>;
}

export const resources = ["ledger", "orders", "inventory"] as const;

/** Admits from `writers` writers, on up to three resources, with tokens that collide often. */
export function admitsArbitrary(options: {
  writers: number;
  maxAdmits: number;
}): fc.Arbitrary<Admit[]> {
  return fc.array(
    fc.record({
      writer: fc.integer({ min: 0, max: options.writers - 1 }),
      resource: fc.constantFrom(...resources),
      // A narrow range, so that equal and crossing tokens are common.
      token: fc.bigInt({ min: 1n, max: 8n }),
      delay: fc.integer({ min: 0, max: 3 }),
    }),
    { minLength: 2, maxLength: options.maxAdmits },
  );
}

/**
 * Runs every admit concurrently: each writer waits its `delay` turns of the event loop, then
 * admits, so that requests overlap in random ways. Resource names get `scope` in front, so
 * that runs do not share marks.
 */
export async function runAdmits(
  fence: Fence,
  scope: string,
  admits: readonly Admit[],
): Promise<Outcome[]> {
  let clock = 0;
  return Promise.all(
    admits.map(async (admit): Promise<Outcome> => {
      for (let turn = 0; turn < admit.delay; turn++)
        await new Promise((resolve) => setImmediate(resolve));
      const startedAt = ++clock;
      try {
        await fence.admit(`${scope}${admit.resource}`, admit.token);
        return { ...admit, startedAt, endedAt: ++clock, accepted: true };
      } catch (error) {
        if (!isStaleTokenError(error)) throw error;
        return { ...admit, startedAt, endedAt: ++clock, accepted: false, highest: error.highest };
      }
    }),
  );
}

/**
 * What a fence must guarantee, checked per resource; returns every violation found.
 *
 * - The store's history of the mark never decreases: accepted tokens never go backwards.
 * - The history holds exactly the accepted tokens: each acceptance was recorded once, no
 *   refusal was. With the first rule, two concurrent admits can never both pass when one of
 *   them is stale, since the stale one would then be recorded after the newer one.
 * - A refusal names a higher token that some writer had admitted.
 * - An admit that starts after another was accepted never passes a lower token.
 * - The fence's highest is the greatest accepted token.
 */
export async function violations(
  subject: FenceUnderTest,
  scope: string,
  outcomes: readonly Outcome[],
): Promise<string[]> {
  const found: string[] = [];
  for (const name of resources) {
    const resource = `${scope}${name}`;
    const mine = outcomes.filter((outcome) => outcome.resource === name);
    const accepted = mine.filter((outcome) => outcome.accepted).map((outcome) => outcome.token);
    const history = await subject.history(resource);
    for (let i = 1; i < history.length; i++) {
      if ((history[i] as bigint) < (history[i - 1] as bigint)) {
        found.push(
          `${name}: the mark went back from ${history[i - 1]} to ${history[i]} (history ${history})`,
        );
      }
    }
    const sorted = (tokens: bigint[]) =>
      [...tokens].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(",");
    if (sorted(history) !== sorted(accepted)) {
      found.push(`${name}: the store recorded [${history}] but accepted [${accepted}]`);
    }
    for (const refused of mine.filter((outcome) => !outcome.accepted)) {
      if (
        refused.highest === undefined ||
        refused.highest <= refused.token ||
        !accepted.includes(refused.highest)
      ) {
        found.push(
          `${name}: token ${refused.token} was refused citing ${refused.highest}, accepted were [${accepted}]`,
        );
      }
    }
    for (const earlier of mine.filter((outcome) => outcome.accepted)) {
      for (const later of mine) {
        if (later.startedAt > earlier.endedAt && later.token < earlier.token && later.accepted) {
          found.push(
            `${name}: token ${later.token} passed after token ${earlier.token} had been admitted`,
          );
        }
      }
    }
    const highest = await subject.fence.highest(resource);
    const expected =
      accepted.length === 0 ? undefined : FencingToken.max(...(accepted as [bigint, ...bigint[]]));
    if (highest !== expected) found.push(`${name}: highest is ${highest}, expected ${expected}`);
  }
  return found;
}

/**
 * The property: any interleaving of admits leaves no violation. `scopes` hands out a fresh
 * resource prefix per run.
 */
export function fenceProperty(
  subject: FenceUnderTest,
  options: { writers: number; maxAdmits: number; scopes: () => string },
): fc.IAsyncPropertyWithHooks<[Admit[]]> {
  return fc.asyncProperty(admitsArbitrary(options), async (admits) => {
    const scope = options.scopes();
    const outcomes = await runAdmits(subject.fence, scope, admits);
    const found = await violations(subject, scope, outcomes);
    if (found.length > 0) throw new Error(found.join("\n"));
  });
}

/**
 * A burst of writers presents stale tokens at once, alongside newer ones, after a token was
 * admitted: none of the stale ones may pass.
 */
export async function staleBurst(
  fence: Fence,
  resource: string,
  options: { admitted: bigint; writers: number },
): Promise<{ stalePassed: bigint[]; staleRefused: number; newerPassed: number }> {
  await fence.admit(resource, options.admitted);
  const tokens = Array.from({ length: options.writers }, (_, i) =>
    i % 3 === 0 ? options.admitted + BigInt(i) : options.admitted - 1n - BigInt(i % 5),
  );
  const results = await Promise.all(
    tokens.map((token) =>
      fence.admit(resource, token).then(
        () => ({ token, passed: true }),
        (error: unknown) => {
          if (!isStaleTokenError(error)) throw error;
          return { token, passed: false };
        },
      ),
    ),
  );
  const stale = results.filter((result) => result.token < options.admitted);
  return {
    stalePassed: stale.filter((result) => result.passed).map((result) => result.token),
    staleRefused: stale.filter((result) => !result.passed).length,
    newerPassed: results.filter((result) => result.token >= options.admitted && result.passed)
      .length,
  };
}
