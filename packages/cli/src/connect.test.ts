import { BackendNotInstalledError, ConnectionError } from "@elector/core";
import { describe, expect, it } from "vitest";
import { fakeIo } from "../test/fake-io.js";
import { describeFailure, installHint } from "./connect.js";
import { main } from "./main.js";

describe("installHint", () => {
  it("says npm install -g when the CLI runs from npm's global node_modules", () => {
    expect(
      installHint("@elector/zookeeper", "/usr/local/lib/node_modules/@elector/cli/dist/connect.js"),
    ).toBe("install it beside the global elector: npm install -g @elector/zookeeper");
  });

  it("names both forms when the CLI runs from a project", () => {
    expect(
      installHint("@elector/zookeeper", "/app/node_modules/@elector/cli/dist/connect.js"),
    ).toBe(
      "install it: npm install @elector/zookeeper (npm install -g @elector/zookeeper if elector was installed with -g)",
    );
  });

  it("is what elector prints for a backend that is not installed", async () => {
    const io = fakeIo({
      createElector: () =>
        Promise.reject(new BackendNotInstalledError("zookeeper", "@elector/zookeeper", undefined)),
    });
    expect(await main(["leader", "--url", "zk://127.0.0.1:2181", "--election", "e"], io)).toBe(1);
    expect(io.stderr.text).toBe(
      `elector: error: the zookeeper backend needs the package @elector/zookeeper: ${installHint("@elector/zookeeper")}\n`,
    );
  });
});

describe("describeFailure", () => {
  it("names the socket error of a gRPC failure, not the operation nor gRPC's status text", () => {
    const grpc = new Error(
      "14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ",
    );
    const error = new ConnectionError(`reading the leader failed: ${grpc.message}`, {
      cause: grpc,
    });
    expect(describeFailure(error)).toBe("connection refused (ECONNREFUSED)");
  });

  it("keeps the innermost message without gRPC's status prefix and trailer", () => {
    const grpc = new Error("3 INVALID_ARGUMENT: etcdserver: user name is empty. Resolution note: ");
    expect(describeFailure(new ConnectionError("reading the leader failed", { cause: grpc }))).toBe(
      "etcdserver: user name is empty",
    );
  });
});
