import type { Etcd3 } from "etcd3";
import { describe, expect, it } from "vitest";
import { guardWatches } from "./watch-guard.js";

/** The shape of etcd3 1.1's WatchManager that the guard relies on. */
function fakeClient() {
  const handled: string[] = [];
  const manager = {
    watchers: [{ id: "1" as string | null }, { id: null as string | null }],
    handleResponse(response: { watch_id: string }) {
      // What etcd3 does for an id it does not know.
      if (!this.watchers.some((watcher) => watcher.id === response.watch_id)) {
        throw new Error("Failed to find watcher for IWatchResponse");
      }
      handled.push(response.watch_id);
    },
  };
  return { client: { watchManager: manager } as unknown as Etcd3, manager, handled };
}

describe("guardWatches", () => {
  it("drops an answer for a watch the client forgot, and passes on the others", () => {
    const { client, manager, handled } = fakeClient();
    guardWatches(client);
    guardWatches(client);
    manager.handleResponse({ watch_id: "1" });
    expect(() => manager.handleResponse({ watch_id: "7" })).not.toThrow();
    // A watcher still waiting for its id (null) is not matched by an answer's id.
    expect(() => manager.handleResponse({ watch_id: "0" })).not.toThrow();
    expect(handled).toEqual(["1"]);
  });

  it("leaves a client without these internals alone", () => {
    const client = { watchManager: { handleResponse: 1 } } as unknown as Etcd3;
    expect(() => guardWatches(client)).not.toThrow();
    expect(() => guardWatches({} as Etcd3)).not.toThrow();
  });
});
