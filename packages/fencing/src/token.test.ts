import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { isInvalidFencingTokenError } from "./errors.js";
import { FencingToken } from "./token.js";

const aboveDoublePrecision = 2n ** 53n + 1n; // 9007199254740993: a double rounds it to …992

describe("FencingToken", () => {
  test("format and parse round-trip every token, above 2^53 included", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: FencingToken.MIN, max: FencingToken.MAX }), (token) => {
        expect(FencingToken.parse(FencingToken.format(token))).toBe(token);
        expect(FencingToken.fromJSON(JSON.parse(JSON.stringify(FencingToken.toJSON(token))))).toBe(
          token,
        );
      }),
    );
    expect(FencingToken.format(aboveDoublePrecision)).toBe("9007199254740993");
    expect(FencingToken.parse("9223372036854775807")).toBe(FencingToken.MAX);
  });

  test.each([
    ["", "empty"],
    ["0", "zero"],
    ["-1", "negative"],
    ["+7", "signed"],
    ["007", "leading zeros"],
    ["1e3", "exponent"],
    ["3.0", "fraction"],
    ["9223372036854775808", "2^63"],
    ["99999999999999999999", "twenty digits"],
    [" 33", "padded"],
  ])("parse refuses %j (%s), naming the value", (text) => {
    const error = catchError(() => FencingToken.parse(text, "token"));
    expect(isInvalidFencingTokenError(error)).toBe(true);
    expect((error as Error).message).toContain(`got ${JSON.stringify(text)}`);
  });

  test("fromHeader reads one token, trims whitespace, and refuses missing, repeated or listed values", () => {
    expect(FencingToken.fromHeader(" 34 ")).toBe(34n);
    expect(FencingToken.fromHeader(["34"])).toBe(34n);
    expect(catchError(() => FencingToken.fromHeader(undefined))).toMatchObject({
      code: "invalid-token",
      message: "Fencing-Token header is missing: a fencing token is required",
    });
    expect(catchError(() => FencingToken.fromHeader("33, 34"))).toMatchObject({
      code: "invalid-token",
      message: expect.stringContaining("send the header once, with one token"),
    });
    expect(catchError(() => FencingToken.fromHeader(["33", "34"], "X-Token"))).toMatchObject({
      source: "X-Token header",
    });
  });

  test("fromJSON accepts decimal strings and safe integers, and refuses numbers that may have lost precision", () => {
    expect(FencingToken.fromJSON("9007199254740993")).toBe(aboveDoublePrecision);
    expect(FencingToken.fromJSON(33)).toBe(33n);
    const error = catchError(() =>
      FencingToken.fromJSON(Number(aboveDoublePrecision), "body.token"),
    );
    expect(error).toMatchObject({
      code: "invalid-token",
      source: "body.token",
      message: expect.stringContaining("send tokens as decimal strings"),
    });
    expect(catchError(() => FencingToken.fromJSON(null))).toMatchObject({ code: "invalid-token" });
    expect(catchError(() => FencingToken.fromJSON(0))).toMatchObject({ code: "invalid-token" });
  });

  test("check and is accept bigints from 1 to 2^63 - 1 only", () => {
    expect(FencingToken.is(1n)).toBe(true);
    expect(FencingToken.is(FencingToken.MAX)).toBe(true);
    expect(FencingToken.is(0n)).toBe(false);
    expect(FencingToken.is(FencingToken.MAX + 1n)).toBe(false);
    expect(FencingToken.is(33)).toBe(false);
    expect(catchError(() => FencingToken.check(33, "leadership.token"))).toMatchObject({
      message:
        "leadership.token must be a fencing token, an integer from 1 to 9223372036854775807 in decimal, got 33",
    });
    expect(catchError(() => FencingToken.format(0n))).toMatchObject({ code: "invalid-token" });
  });

  test("compare orders tokens numerically and max picks the newest, beyond double precision", () => {
    expect(FencingToken.compare(33n, 34n)).toBe(-1);
    expect(FencingToken.compare(34n, 33n)).toBe(1);
    expect(FencingToken.compare(34n, 34n)).toBe(0);
    expect(FencingToken.compare(aboveDoublePrecision, aboveDoublePrecision - 1n)).toBe(1);
    expect(FencingToken.max(33n, aboveDoublePrecision, 34n)).toBe(aboveDoublePrecision);
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 1n, max: FencingToken.MAX }), { minLength: 1 }),
        (tokens) => {
          const sorted = [...tokens].sort(FencingToken.compare);
          expect(FencingToken.max(tokens[0] as bigint, ...tokens)).toBe(sorted.at(-1));
        },
      ),
    );
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}
