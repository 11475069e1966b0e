// Starts etcd through the packed @elector/testing, prints its endpoint on one line, and
// removes the container when standard input closes or on SIGTERM.
import { EtcdContainer } from "@elector/testing";

const etcd = await new EtcdContainer().start();
console.log(etcd.getClientEndpoint());
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await etcd.remove();
  process.exit(0);
};
process.stdin.on("end", stop).resume();
process.on("SIGTERM", stop);
