import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { maxValueBytes } from "./config/validate.js";
import { createElector } from "./create-elector.js";
import type { Elector } from "./elector.js";
import { isInvalidOptionError } from "./errors.js";
import { lead } from "./lead.js";
import { createMemoryElector, type MemoryElector } from "./memory/memory-elector.js";

const open: Elector[] = [];
let namespaces = 0;

function memory(id = "me"): MemoryElector {
  const elector = createMemoryElector({
    election: "jobs",
    id,
    name: `bad-input-${++namespaces}`,
    ttlMs: 1000,
  });
  open.push(elector);
  return elector;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((elector) => elector.close()));
});

/** Expects `run` to fail with an InvalidOptionError naming `option`, and returns it. */
async function refused(run: () => unknown, option: string): Promise<Error> {
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  expect(isInvalidOptionError(caught), String(caught)).toBe(true);
  expect(caught).toMatchObject({ name: "InvalidOptionError", option });
  return caught as Error;
}

const loneSurrogate = "ab\uD800cd";

describe("bad input", () => {
  it("refuses unknown keys in the object form and in createMemoryElector, naming the key and value", async () => {
    const error = await refused(
      () =>
        createElector({ backend: "etcd", endpoints: ["h:2379"], ttl: 5 } as never, {
          election: "e",
        }),
      "ttl",
    );
    expect(error.message).toMatch(/^ttl must be .*ttlSeconds.*, got 5$/);
    await refused(
      () => createElector({ backend: "memory", ttl: 5 } as never, { election: "e" }),
      "ttl",
    );
    await refused(
      () =>
        createElector({ backend: "zookeeper", servers: ["z"], sessionTimeout: 5 } as never, {
          election: "e",
        }),
      "sessionTimeout",
    );
    await refused(() => createElector("memory://", { election: "e", ttlMs: 5 } as never), "ttlMs");
    await refused(() => createMemoryElector({ election: "e", ttl: 300 } as never), "ttl");
  });

  it("refuses a value that is not a string, with nothing started", async () => {
    const elector = memory();
    const error = await refused(() => elector.campaign({ value: 42 as never }), "value");
    expect(error.message).toMatch(/, got 42$/);
    expect(await elector.participants()).toEqual([]);
  });

  it(`refuses a value over maxValueBytes (${maxValueBytes}) of UTF-8 in campaign and proclaim`, async () => {
    expect(maxValueBytes).toBe(262_144);
    const elector = memory();
    // 2 bytes each in UTF-8: one character over the limit's half.
    const tooLong = "é".repeat(maxValueBytes / 2 + 1);
    const error = await refused(() => elector.campaign({ value: tooLong }), "value");
    expect(error.message.length).toBeLessThan(400);
    expect(await elector.participants()).toEqual([]);
    const leadership = await elector.campaign({ value: "é".repeat(maxValueBytes / 2) });
    await refused(() => leadership.proclaim(tooLong), "value");
    await refused(() => leadership.proclaim(7 as never), "value");
    expect(leadership.isActive()).toBe(true);
  });

  it("refuses a signal that is not an AbortSignal", async () => {
    const elector = memory();
    await refused(() => elector.campaign({ signal: { aborted: false } as never }), "signal");
    expect(await elector.participants()).toEqual([]);
    await refused(() => elector.leader({ signal: "soon" as never }), "signal");
    await refused(() => elector.participants({ signal: 1 as never }), "signal");
    await refused(() => elector.observe({ signal: {} as never }), "signal");
    await refused(() => lead(elector, () => {}, { signal: {} as never }), "signal");
  });

  it("refuses lead() with a work that is not a function, before it campaigns", async () => {
    const elector = memory();
    await refused(() => lead(elector, "run" as never), "work");
    expect(await elector.participants()).toEqual([]);
  });

  it("refuses ids and values that are not well-formed Unicode", async () => {
    await refused(() => createElector("memory://", { election: "e", id: loneSurrogate }), "id");
    await refused(() => createMemoryElector({ election: "e", id: loneSurrogate }), "id");
    const elector = memory();
    await refused(() => elector.campaign({ value: loneSurrogate }), "value");
    await refused(() => lead(elector, () => {}, { value: loneSurrogate }), "value");
    const leadership = await elector.campaign();
    await refused(() => leadership.proclaim("\uDC00"), "value");
  });
});

/** Odd values: anything, and a few that look almost right. */
const odd = fc.oneof(
  fc.anything(),
  fc.constantFrom("", "\uD800", "memory://", 0, -1, 1.5, Number.NaN, Infinity, null, []),
  fc.string(),
);
/** Option objects with known and unknown keys, each odd or absent. */
const oddOptions = (keys: string[]) =>
  fc.oneof(
    odd,
    fc.dictionary(fc.constantFrom(...keys, "ttl", "extra", "sessionTimeout"), odd, { maxKeys: 4 }),
  );
/** Anything for a signal except a real AbortSignal, which may legitimately abort. */
const notASignal = odd.filter((value) => value !== undefined && !(value instanceof AbortSignal));

/** Runs `call`; passes if it succeeds or fails with an InvalidOptionError, else reports. */
async function typedOnly(call: () => unknown): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!isInvalidOptionError(error)) {
      throw new Error(`expected an InvalidOptionError, got ${String(error)}`, { cause: error });
    }
  }
}

describe("odd input, as a property", () => {
  it("createElector on memory fails only with InvalidOptionError", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constant("memory://"),
          odd,
          fc.dictionary(fc.constantFrom("backend", "name", "ttlMs", "safetyMarginMs", "ttl"), odd, {
            maxKeys: 4,
          }),
          fc.record(
            { backend: fc.constant("memory"), name: odd, ttlMs: odd, safetyMarginMs: odd },
            { requiredKeys: ["backend"] },
          ),
        ),
        oddOptions(["election", "id", "logger"]),
        async (target, options) => {
          await typedOnly(async () => {
            const elector = await createElector(target as never, options as never);
            open.push(elector);
            expect(elector.backend).toBe("memory");
            await elector.close();
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("campaign and proclaim on memory fail only with InvalidOptionError", async () => {
    const elector = memory("odd-campaigner");
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          odd,
          fc.record({ value: odd, signal: notASignal }, { requiredKeys: [] }),
          fc.dictionary(fc.constantFrom("value", "signal", "extra"), odd, { maxKeys: 3 }),
        ),
        odd,
        fc.oneof(odd, fc.record({ signal: notASignal }, { requiredKeys: [] })),
        async (campaignOptions, value, proclaimOptions) => {
          if ((campaignOptions as { signal?: unknown } | null)?.signal instanceof AbortSignal)
            return;
          await typedOnly(async () => {
            const leadership = await elector.campaign(campaignOptions as never);
            try {
              await typedOnly(() => leadership.proclaim(value as never, proclaimOptions as never));
              expect(leadership.isActive()).toBe(true);
            } finally {
              await leadership.resign();
            }
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("lead on memory fails only with InvalidOptionError, and never campaigns on bad input", async () => {
    const elector = memory("odd-leader");
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          odd,
          fc.constant(() => {}),
        ),
        fc.oneof(
          odd,
          fc.record(
            {
              value: odd,
              signal: notASignal,
              onError: odd,
              backoff: oddOptions(["minDelayMs", "maxDelayMs", "factor"]),
            },
            { requiredKeys: [] },
          ),
        ),
        async (work, options) => {
          let campaigned = false;
          const off = elector.on("elected", () => {
            campaigned = true;
          });
          // A stop that has already aborted: valid input makes lead() return at once.
          const withStop =
            options === undefined
              ? { signal: AbortSignal.abort() }
              : typeof options === "object" &&
                  options !== null &&
                  (options as { signal?: unknown }).signal === undefined
                ? { ...options, signal: AbortSignal.abort() }
                : options;
          try {
            await typedOnly(() => lead(elector, work as never, withStop as never));
          } finally {
            off();
          }
          expect(campaigned).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
