import { describe, expect, it } from "vitest";
import { resolveAndBind } from "./bind-elector.js";
import type { Logger } from "./logger.js";

describe("resolveAndBind", () => {
  it("hands a backend its validated config and options, with the logger bound once", () => {
    const bindings: Record<string, unknown>[] = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: () => {},
      child: (fields) => {
        bindings.push(fields);
        return logger;
      },
    };
    const { config, options } = resolveAndBind(
      { backend: "etcd", endpoints: ["h:2379"] },
      { election: "jobs", id: "w-1", logger },
    );
    // Typed by the backend it names: no cast, no instanceof.
    expect(config.ttlSeconds).toBe(10);
    expect(Object.isFrozen(config)).toBe(true);
    expect(options).toMatchObject({ election: "jobs", id: "w-1" });
    expect(bindings).toEqual([{ election: "jobs", id: "w-1", backend: "etcd" }]);
  });

  it("refuses a wrong option before it binds anything", () => {
    let bound = 0;
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error() {},
      child() {
        bound++;
        return this;
      },
    } satisfies Logger;
    expect(() =>
      resolveAndBind(
        { backend: "zookeeper", servers: ["z"], sessionTimeoutMs: 10 },
        {
          election: "jobs",
          logger,
        },
      ),
    ).toThrow(/^sessionTimeoutMs/);
    expect(bound).toBe(0);
  });
});
