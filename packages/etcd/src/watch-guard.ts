import type { Etcd3 } from "etcd3";

/** The parts of etcd3's (private) `WatchManager` that the guard wraps. */
interface WatchManagerInternals {
  watchers: { id: string | null }[];
  handleResponse(response: { watch_id: string; canceled?: boolean }): void;
}

const guarded = new WeakSet<object>();

/**
 * Makes the etcd3 client's shared watch stream drop an answer for a watch that the client no
 * longer knows, instead of throwing from the gRPC `data` handler, where nothing can catch it
 * and the process dies.
 *
 * etcd3 forgets a watch as soon as etcd cancels it (a compacted start revision, say) and
 * emits `error`; a cancel sent for it before that (the owner was closing it at the same
 * moment) is still answered by etcd, with the same watch id. etcd3 1.1 throws
 * `ClientRuntimeError("Failed to find watcher for IWatchResponse")` on that answer. Nobody
 * waits for an answer about a forgotten watch, so dropping it loses nothing.
 *
 * Idempotent per client. A client of another etcd3 version without these internals is left
 * alone: {@link KeyWatch} still never cancels a watch that etcd cancelled.
 */
export function guardWatches(client: Etcd3): void {
  const manager = (client as unknown as { watchManager?: Partial<WatchManagerInternals> })
    .watchManager;
  if (manager === undefined || guarded.has(manager)) return;
  const original = manager.handleResponse;
  if (typeof original !== "function" || !Array.isArray(manager.watchers)) return;
  guarded.add(manager);
  const internals = manager as WatchManagerInternals;
  internals.handleResponse = function handleResponse(this: WatchManagerInternals, response) {
    if (!this.watchers.some((watcher) => watcher.id === response.watch_id)) return;
    original.call(this, response);
  };
}
