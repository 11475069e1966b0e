// The integration project's global setup: fail fast, once, when Docker or an image is
// missing, and remove what test runs leave behind. Ryuk cannot run here (its image cannot
// be pulled), so nothing else removes the containers of a run that crashed.
import { preflight, removeLeftovers } from "@elector/testing";

export default async function setup(): Promise<() => Promise<void>> {
  await preflight(["etcd", "zookeeper", "postgres"]);
  const stale = await removeLeftovers();
  if (stale.containers + stale.networks > 0) {
    console.log(
      `removed ${stale.containers} container(s) and ${stale.networks} network(s) left by earlier test runs`,
    );
  }

  return async () => {
    // This runs in the runner's process, the parent of the workers that started containers:
    // whatever a test forgot to remove goes with its run.
    const forgotten = await removeLeftovers({ createdBy: process.pid });
    if (forgotten.containers + forgotten.networks > 0) {
      console.warn(
        `removed ${forgotten.containers} container(s) and ${forgotten.networks} network(s) that tests of this run left behind`,
      );
    }
  };
}
