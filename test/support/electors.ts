import { afterEach } from "vitest";

/** What {@link electorsForSuite} closes: an elector, or a helper opened beside it. */
export interface Closable {
  close(): Promise<unknown>;
}

/**
 * Registers an `afterEach` in the enclosing `describe` that closes every elector the test
 * passed to the returned function, so that no candidate of a test outlives it (and keeps a
 * lease or a session the next test would see). All are closed, even if one fails; then the
 * test fails with what failed. Returns the function, which returns what it was given.
 */
export function electorsForSuite(): <T extends Closable>(elector: T) => T {
  const open: Closable[] = [];
  afterEach(async () => {
    const failures = (await Promise.allSettled(open.splice(0).map((made) => made.close())))
      .filter((result) => result.status === "rejected")
      .map((result) => result.reason as unknown);
    if (failures.length > 0) throw new AggregateError(failures, "closing an elector failed");
  });
  return (elector) => {
    open.push(elector);
    return elector;
  };
}
