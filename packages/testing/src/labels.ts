import { hostname } from "node:os";

/**
 * Set to `"true"` on every container and network this package creates. Ryuk (testcontainers'
 * reaper) cannot run where no registry is reachable, so leftovers are found by this label.
 */
export const ownerLabel = "org.elector.testing";
/** The process id of the process that created the container or network. */
export const pidLabel = "org.elector.testing.pid";
/** That process's parent: the test runner, when a worker process created it. */
export const parentPidLabel = "org.elector.testing.parent-pid";
/** The host name of that process, so a pid is only judged on its own machine. */
export const hostLabel = "org.elector.testing.host";
/** Names one container across a start attempt, so that a failed attempt removes exactly it. */
export const instanceLabel = "org.elector.testing.instance";

/** The labels that mark a resource as ours and say who made it. */
export function ownerLabels(): Record<string, string> {
  return {
    [ownerLabel]: "true",
    [pidLabel]: String(process.pid),
    [parentPidLabel]: String(process.ppid),
    [hostLabel]: hostname(),
  };
}
