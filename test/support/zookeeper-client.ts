import ZooKeeper from "zookeeper";

/**
 * A connected ZooKeeper client. Rejects if no server of `connect` accepts a session within
 * `connectTimeoutMs`.
 */
export async function openZooKeeperClient(
  connect: string,
  options: { sessionTimeoutMs: number; connectTimeoutMs: number },
): Promise<ZooKeeper> {
  const client = new ZooKeeper({ connect, timeout: options.sessionTimeoutMs, debug_level: 1 });
  client.setLogger(false);
  const connected = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.close();
      reject(
        new Error(`no ZooKeeper session from ${connect} within ${options.connectTimeoutMs} ms`),
      );
    }, options.connectTimeoutMs);
    client.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  client.init({});
  await connected;
  return client;
}
