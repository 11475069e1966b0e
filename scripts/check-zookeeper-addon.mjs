// pnpm 10 skips a dependency's build script it was not told to allow, and still exits 0.
// This proves that the `zookeeper` native addon was compiled and loads in this Node.js.
import { createRequire } from "node:module";

const require = createRequire(new URL("../packages/zookeeper/package.json", import.meta.url));
try {
  const ZooKeeper = require("zookeeper");
  const client = new ZooKeeper({ connect: "127.0.0.1:1", timeout: 1000 });
  // `native` is the C client's handle, made by the compiled addon; no connection is opened.
  if (typeof client.native?.a_create !== "function") {
    throw new Error("the module loaded but its native client is missing");
  }
  console.log(
    `zookeeper addon loaded (ZOO_EPHEMERAL_SEQUENTIAL=${ZooKeeper.constants.ZOO_EPHEMERAL_SEQUENTIAL})`,
  );
} catch (error) {
  console.error(
    "The zookeeper native addon does not load:",
    error instanceof Error ? error.message : error,
  );
  console.error(
    "Is `zookeeper` listed under onlyBuiltDependencies in pnpm-workspace.yaml? Then: pnpm rebuild zookeeper",
  );
  process.exit(1);
}
