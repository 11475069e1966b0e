import { createRequire } from "node:module";
import { Etcd3, type IOptions } from "etcd3";

type Policy = NonNullable<NonNullable<IOptions["faultHandling"]>["global"]>;

// etcd3 retries a failed call and opens a 5 s circuit breaker after three failures: right
// for an app, wrong for a test that times one request out and expects the next to pass.
// cockatiel's no-op policy, loaded from etcd3's own dependency (the test tree has none).
const { noop } = createRequire(createRequire(import.meta.url).resolve("etcd3"))("cockatiel") as {
  noop: Policy;
};

/**
 * An etcd3 client without retries or circuit breakers, whose unary calls fail after
 * `callTimeoutMs`: each request in a test stands alone.
 */
export function openEtcdClient(hosts: string[], callTimeoutMs: number): Etcd3 {
  return new Etcd3({
    hosts,
    dialTimeout: callTimeoutMs,
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: new Date(Date.now() + callTimeoutMs) },
    faultHandling: { host: () => noop, global: noop },
  });
}
