import { createElector, isRetryableError } from "@elector/core";
import { createEtcdElector } from "@elector/etcd";
import { EtcdContainer, type StartedEtcdContainer } from "@elector/testing";
import { describe, expect, it } from "vitest";
import { startedForSuite } from "../../support/suite-servers.js";
import { uniqueElection } from "./helpers.js";

const ttlSeconds = 2;

describe("etcd elector with user and password", () => {
  const started = startedForSuite<StartedEtcdContainer>("etcd with auth", {
    start: async () => {
      const etcd = await new EtcdContainer().start();
      try {
        for (const command of [
          ["etcdctl", "user", "add", "root", "--new-user-password=root-secret"],
          ["etcdctl", "auth", "enable"],
        ]) {
          const { exitCode, output } = await etcd.exec(command);
          if (exitCode !== 0) throw new Error(`${command.join(" ")} failed: ${output}`);
        }
      } catch (error) {
        await etcd.remove();
        throw error;
      }
      return etcd;
    },
    stop: (etcd) => etcd.remove(),
    servers: (etcd) => [etcd],
  });

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
