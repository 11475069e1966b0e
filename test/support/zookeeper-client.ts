import { ZooKeeperClient } from "../../packages/zookeeper/src/protocol/client.js";

/**
 * A connected client of the ZooKeeper wire protocol (the one @elector/zookeeper runs on).
 * Rejects if no server of `connect` accepts a session within `connectTimeoutMs`.
 */
export async function openZooKeeperClient(
  connect: string,
  options: {
    sessionTimeoutMs: number;
    connectTimeoutMs: number;
    session?: { readonly id: bigint; readonly password: Buffer };
  },
): Promise<ZooKeeperClient> {
  const client = new ZooKeeperClient({
    servers: connect.split(","),
    sessionTimeoutMs: options.sessionTimeoutMs,
    ...(options.session === undefined ? {} : { session: options.session }),
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      void client.close();
      reject(
        new Error(`no ZooKeeper session from ${connect} within ${options.connectTimeoutMs} ms`),
      );
    }, options.connectTimeoutMs);
    const unsubscribe = client.subscribe({
      connected: () => {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      },
      ended: (state, reason) => {
        clearTimeout(timer);
        unsubscribe();
        reject(new Error(`the ZooKeeper session ended (${state}): ${reason}`));
      },
    });
    client.start();
  });
  return client;
}
