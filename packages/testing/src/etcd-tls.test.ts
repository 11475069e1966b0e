import { describe, expect, it } from "vitest";
import { isTestingSetupError } from "./errors.js";
import { subjectAltNames } from "./etcd-tls.js";

describe("subjectAltNames", () => {
  it("names loopback and localhost once when the Docker host is loopback", () => {
    expect(subjectAltNames("127.0.0.1")).toBe("IP:127.0.0.1,DNS:localhost");
  });

  it("adds the Docker bridge's gateway as an IP address", () => {
    expect(subjectAltNames("172.17.0.1")).toBe("IP:127.0.0.1,DNS:localhost,IP:172.17.0.1");
  });

  it("adds a remote engine's host name as a DNS name", () => {
    expect(subjectAltNames("docker.internal")).toBe(
      "IP:127.0.0.1,DNS:localhost,DNS:docker.internal",
    );
  });

  it.each(["", "a,DNS:evil", "host\nkeyUsage=x", "under_score"])(
    "refuses %j with an invalid-option error that names the host",
    (host) => {
      let caught: unknown;
      try {
        subjectAltNames(host);
      } catch (error) {
        caught = error;
      }
      expect(isTestingSetupError(caught) && caught.code).toBe("invalid-option");
      expect((caught as Error).message).toContain(JSON.stringify(host));
    },
  );
});
