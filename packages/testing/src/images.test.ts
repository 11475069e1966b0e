import { describe, expect, it } from "vitest";
import { isTestingSetupError } from "./errors.js";
import { defaultImages, resolveImage } from "./images.js";

function failure(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

describe("resolveImage", () => {
  it("prefers the argument, then the environment variable, then the official image", () => {
    const env = { ELECTOR_ETCD_IMAGE: "elector-local/etcd:3.4.23-debian" };
    expect(resolveImage("etcd", "quay.io/coreos/etcd:v3.5.0", env)).toEqual({
      kind: "etcd",
      name: "quay.io/coreos/etcd:v3.5.0",
      source: "argument",
    });
    expect(resolveImage("etcd", undefined, env).source).toBe("ELECTOR_ETCD_IMAGE");
    expect(resolveImage("zookeeper", undefined, env)).toEqual({
      kind: "zookeeper",
      name: defaultImages.zookeeper,
      source: "default",
    });
  });

  it.each([
    "postgres",
    "postgres:15",
    "library/postgres:15-alpine",
    "localhost:5000/elector-local/etcd:3.4.23-debian",
    "quay.io/coreos/etcd:v3.5.21",
    `zookeeper@sha256:${"a".repeat(64)}`,
  ])("accepts the image reference %s", (name) => {
    expect(resolveImage("postgres", undefined, { ELECTOR_POSTGRES_IMAGE: name }).name).toBe(name);
  });

  it("rejects an empty override, naming the variable", () => {
    const error = failure(() =>
      resolveImage("zookeeper", undefined, { ELECTOR_ZOOKEEPER_IMAGE: " " }),
    );
    expect(isTestingSetupError(error) && error.code).toBe("invalid-image");
    expect((error as Error).message).toBe(
      "the environment variable ELECTOR_ZOOKEEPER_IMAGE must name a Docker image such as zookeeper:3.9.3, got an empty value; unset it to use the default image",
    );
  });

  it.each(["Etcd:3", "etcd:", "etcd 3.5", "http://quay.io/etcd", "etcd:3.5:extra", "-etcd"])(
    "rejects the malformed override %j, naming the variable and the value",
    (value) => {
      const error = failure(() => resolveImage("etcd", undefined, { ELECTOR_ETCD_IMAGE: value }));
      expect(isTestingSetupError(error) && error.code).toBe("invalid-image");
      expect((error as Error).message).toContain("ELECTOR_ETCD_IMAGE");
      expect((error as Error).message).toContain(JSON.stringify(value));
    },
  );

  it("rejects a malformed argument, naming it", () => {
    expect(() => resolveImage("postgres", "")).toThrow(/^the postgres image argument must name/);
  });
});
