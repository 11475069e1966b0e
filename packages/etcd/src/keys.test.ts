import { describe, expect, it } from "vitest";
import { candidateOrRefuse, electionKeys, keySuffix, leaseHex, prefixRange } from "./keys.js";

describe("electionKeys", () => {
  it("lays out candidate keys as etcdctl elect does: <election>/<lease hex>, under the prefix if any", () => {
    const plain = electionKeys("", "jobs");
    expect(plain.name).toBe("jobs");
    expect(plain.candidate("694da2024c959a05").toString()).toBe("jobs/694da2024c959a05");
    const prefixed = electionKeys("services/prod", "jobs/nightly");
    expect(prefixed.name).toBe("services/prod/jobs/nightly");
    expect(prefixed.candidate("1f").toString()).toBe("services/prod/jobs/nightly/1f");
  });

  it("keeps id keys outside the candidates' range, so that Go sees only candidates", () => {
    const keys = electionKeys("", "jobs");
    const id = keys.id("1f");
    expect(id.toString()).toBe("jobs#id/1f");
    const inRange = (key: Buffer, range: { key: Buffer; rangeEnd: Buffer }) =>
      Buffer.compare(key, range.key) >= 0 && Buffer.compare(key, range.rangeEnd) < 0;
    expect(inRange(id, keys.candidates)).toBe(false);
    expect(inRange(id, keys.ids)).toBe(true);
    expect(inRange(keys.candidate("1f"), keys.candidates)).toBe(true);
    expect(keySuffix(id, keys.ids)).toBe("1f");
    expect(keySuffix(keys.candidate("1f"), keys.candidates)).toBe("1f");
  });
});

describe("ElectionKeys.isCandidate", () => {
  it("takes only <name>/<lease hex> for a candidate, not the keys of an election nested in the range", () => {
    const jobs = electionKeys("", "jobs");
    expect(jobs.isCandidate(Buffer.from("jobs/694da2024c959a05"))).toBe(true);
    expect(jobs.isCandidate(jobs.candidate("1f"))).toBe(true);
    // The candidate and id keys of the nested election "jobs/billing", and of "jobs/ab",
    // whose name is hex itself.
    const billing = electionKeys("", "jobs/billing");
    const ab = electionKeys("", "jobs/ab");
    for (const nested of [
      billing.candidate("1f"),
      billing.id("1f"),
      ab.candidate("1f"),
      ab.id("1f"),
    ]) {
      expect(jobs.isCandidate(nested)).toBe(false);
    }
    // Prefix "jobs" with election "billing" is the same key as election "jobs/billing".
    expect(jobs.isCandidate(electionKeys("jobs", "billing").candidate("1f"))).toBe(false);
    expect(jobs.isCandidate(Buffer.from("jobs/"))).toBe(false);
    expect(jobs.isCandidate(Buffer.from("jobs/1F"))).toBe(false);
    expect(jobs.isCandidate(Buffer.from("jobs/12345678901234567"))).toBe(false);
    expect(jobs.isCandidate(Buffer.from("other/1f"))).toBe(false);
  });

  it("refuses a nested election's key as the candidate to wait behind, with a typed error", () => {
    const jobs = electionKeys("", "jobs");
    expect(candidateOrRefuse(jobs, undefined)).toBeUndefined();
    expect(candidateOrRefuse(jobs, jobs.candidate("1f"))).toEqual(jobs.candidate("1f"));
    expect(() => candidateOrRefuse(jobs, Buffer.from("jobs/billing/1f"))).toThrow(
      expect.objectContaining({
        name: "InvalidOptionError",
        code: "invalid-option",
        option: "election",
        message: expect.stringContaining("jobs/billing/1f"),
      }),
    );
  });
});

describe("prefixRange", () => {
  it("ends a prefix range at the prefix with its last byte incremented, as etcd's WithPrefix", () => {
    expect(prefixRange("jobs/").rangeEnd.toString()).toBe("jobs0");
    const high = prefixRange("a\u00ff");
    // "ÿ" is two bytes in UTF-8 (0xc3 0xbf): the last one is incremented.
    expect([...high.rangeEnd]).toEqual([0x61, 0xc3, 0xc0]);
  });
});

describe("leaseHex", () => {
  it("prints a lease ID as Go's %x: lowercase hex without padding", () => {
    expect(leaseHex("7587899077947660805")).toBe("694da2024c959a05");
    expect(leaseHex("31")).toBe("1f");
  });
});
