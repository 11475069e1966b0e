import { createElector, isRetryableError } from "@elector/core";
import { createEtcdElector } from "@elector/etcd";
import { EtcdContainer, type StartedEtcdContainer } from "@elector/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { printServerLogsOnFailure } from "../../support/server-logs.js";
import { uniqueElection } from "./helpers.js";

const ttlSeconds = 2;

describe("etcd elector with user and password", () => {
  let etcd: StartedEtcdContainer | undefined;
  const started = (): StartedEtcdContainer => {
    if (etcd === undefined) throw new Error("etcd did not start");
    return etcd;
  };

  beforeAll(async () => {
    etcd = await new EtcdContainer().start();
    for (const command of [
      ["etcdctl", "user", "add", "root", "--new-user-password=root-secret"],
      ["etcdctl", "auth", "enable"],
    ]) {
      const { exitCode, output } = await etcd.exec(command);
      if (exitCode !== 0) throw new Error(`${command.join(" ")} failed: ${output}`);
    }
  });
  afterAll(async () => {
    await etcd?.remove();
  });
  printServerLogsOnFailure(() => [etcd]);

  it("campaigns with the user and password of an etcd:// URL", async () => {
    await using elector = await createElector(
      `etcd://root:root-secret@${started().getHost()}:${started().getClientPort()}?ttl=${ttlSeconds}`,
      { election: uniqueElection("auth-url"), id: "with-password" },
    );
    const leadership = await elector.campaign();
    expect(leadership.isActive()).toBe(true);
    expect(await elector.leader()).toMatchObject({ id: "with-password", token: leadership.token });
    await leadership.resign();
  });

  it("fails a campaign at once, as not retryable, when the password is wrong", async () => {
    await using elector = await createEtcdElector({
      election: uniqueElection("auth-wrong"),
      endpoints: started().getClientEndpoints(),
      auth: { username: "root", password: "wrong" },
      ttlSeconds,
    });
    const error = await elector.campaign().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toMatchObject({ name: "BackendError", code: "backend-failed" });
    expect(isRetryableError(error)).toBe(false);
    expect(String((error as Error).message)).toMatch(/authentication failed/);
  });
});
