// The same program on every backend: only ELECTOR_URL changes. memory:// needs nothing,
// etcd:// needs @elector/etcd installed, zk:// needs @elector/zookeeper; createElector()
// loads the one the URL names, and only that one.
//
// Environment: ELECTOR_URL (default memory://).
import { createElector, isElectorError, redactUrl } from "@elector/core";

const url = process.env.ELECTOR_URL ?? "memory://";
try {
  const elector = await createElector(url, { election: "swap-backends", id: "example" });
  console.log(`backend: ${elector.backend} (from ${redactUrl(url)})`);

  const leadership = await elector.campaign({ signal: AbortSignal.timeout(30_000) });
  console.log(`leading on ${elector.backend} with fencing token ${leadership.token}`);
  const leader = await elector.leader();
  console.log(`leader(): ${leader?.id} advertising ${JSON.stringify(leader?.value)}`);

  await leadership.resign();
  console.log(`resigned; leader() is now ${JSON.stringify((await elector.leader()) ?? null)}`);
  await elector.close();
} catch (error) {
  // The two mistakes a URL can carry, each with a message that says what to do.
  const code = isElectorError(error) ? error.code : undefined;
  if (code === "invalid-option" || code === "backend-not-installed") {
    console.error(`cannot use ELECTOR_URL: ${(error as Error).message}`);
    process.exit(2);
  }
  throw error;
}
