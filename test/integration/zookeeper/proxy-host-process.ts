// The child side of ProxyHost: runs FaultProxy instances in a process of their own and obeys
// the parent's messages. See proxy-host.ts for why.
import { FaultProxy } from "@elector/testing";

type Request =
  | { readonly id: number; readonly command: "start"; readonly target: string }
  | {
      readonly id: number;
      readonly command: "blackhole" | "heal" | "reset" | "close";
      readonly proxy: number;
    }
  | {
      readonly id: number;
      readonly command: "latency";
      readonly proxy: number;
      readonly ms: number;
    };

const proxies = new Map<number, FaultProxy>();
let next = 0;

async function handle(request: Request): Promise<Record<string, unknown>> {
  if (request.command === "start") {
    const proxy = await FaultProxy.start({ target: request.target });
    const handleId = ++next;
    proxies.set(handleId, proxy);
    return { proxy: handleId, endpoint: proxy.endpoint };
  }
  const proxy = proxies.get(request.proxy);
  if (proxy === undefined) throw new Error(`no proxy ${request.proxy}`);
  switch (request.command) {
    case "blackhole":
      proxy.blackhole();
      break;
    case "heal":
      proxy.heal();
      break;
    case "reset":
      proxy.resetConnections();
      break;
    case "latency":
      proxy.latency(request.ms);
      break;
    case "close":
      proxies.delete(request.proxy);
      await proxy.close();
      break;
  }
  return {};
}

process.on("message", (request: Request) => {
  handle(request).then(
    (result) => process.send?.({ id: request.id, ok: true, ...result }),
    (error: unknown) => process.send?.({ id: request.id, ok: false, error: String(error) }),
  );
});
process.on("disconnect", () => {
  void Promise.all([...proxies.values()].map((proxy) => proxy.close())).then(() => process.exit(0));
});
process.send?.({ id: 0, ok: true });
