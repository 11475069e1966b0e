import { createServer } from "node:net";
import { networkInterfaces } from "node:os";
import { TestingSetupError } from "./errors.js";

// Below Linux's ephemeral range (32768-60999 by default), from which both the kernel picks
// client ports and Docker picks ports for `-p 0`: a port chosen here is not taken by either
// while its container is stopped, so the container gets it back on `docker start`.
const lowestPort = 20_000;
const highestPort = 32_000;

// Ports handed out by this process and not yet released: cluster members start at once,
// and none of them has bound its port when the next one is chosen.
const reserved = new Set<number>();

/**
 * A host port that is free now on `host`, for a container to publish its server port on, so
 * that the endpoint stays the same across stop and restart. Docker may still refuse it if
 * something takes it in between; the caller then asks again.
 */
export async function reserveHostPort(host: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = lowestPort + Math.floor(Math.random() * (highestPort - lowestPort));
    if (reserved.has(port)) continue;
    if (await isFree(port, host)) {
      reserved.add(port);
      return port;
    }
  }
  throw new TestingSetupError(
    "start-failed",
    `no free host port found on ${host} between ${lowestPort} and ${highestPort} in 50 tries; free some, or stop what holds them`,
  );
}

/** Gives `port` back once its container is removed. */
export function releaseHostPort(port: number): void {
  reserved.delete(port);
}

/**
 * Whether `port` can be bound on `host`, where Docker will publish it; a port taken there or
 * on every address fails here too. Only Docker can tell for an address of another machine
 * (a remote engine, or the bridge's gateway seen from a container whose engine runs
 * elsewhere): there the answer is yes, and a conflict shows when the container starts.
 */
function isFree(port: number, host: string): Promise<boolean> {
  if (!isLocalAddress(host)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/** Whether `host` is an address of one of this machine's interfaces. */
function isLocalAddress(host: string): boolean {
  return Object.values(networkInterfaces()).some((addresses) =>
    (addresses ?? []).some((address) => address.address === host),
  );
}

/** Whether a Docker error says the chosen host port was taken. */
export function isPortConflict(error: unknown): boolean {
  const text = error instanceof Error ? error.message : String(error);
  return /port is already allocated|address already in use/i.test(text);
}
