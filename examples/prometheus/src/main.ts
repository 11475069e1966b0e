// An elector's metrics on a Prometheus endpoint: OpenTelemetry's SDK with its Prometheus
// exporter, and @elector/metrics binding the elector's events to the instruments. Scrape
// /metrics on every instance: `elector_leader` is 1 on the leader alone.
//
// Environment: ELECTOR_URL (default memory://), INSTANCE_ID, METRICS_PORT (default 9464; 0
// picks a free one), HOST (default 127.0.0.1).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createElector, lead } from "@elector/core";
import { instrumentElector } from "@elector/metrics";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";

// The exporter renders; our own server answers, so that port 0 works and is reported.
const exporter = new PrometheusExporter({ preventServerStart: true });
const provider = new MeterProvider({ readers: [exporter] });
const server = createServer((request, response) => {
  if (new URL(request.url ?? "/", "http://metrics").pathname === "/metrics") {
    exporter.getMetricsRequestHandler(request, response);
  } else {
    response.writeHead(404).end();
  }
});
const host = process.env.HOST ?? "127.0.0.1";
await new Promise<void>((resolve) =>
  server.listen(Number(process.env.METRICS_PORT ?? 9464), host, resolve),
);

const elector = await createElector(process.env.ELECTOR_URL ?? "memory://", {
  election: "prometheus-example",
  ...(process.env.INSTANCE_ID ? { id: process.env.INSTANCE_ID } : {}),
});
const metrics = instrumentElector(elector, { meter: provider.getMeter("prometheus-example") });
const log = (line: string) => console.log(`[${elector.id}] ${line}`);

const shutdown = new AbortController();
process.once("SIGTERM", () => shutdown.abort());
process.once("SIGINT", () => shutdown.abort());

const { port } = server.address() as AddressInfo;
log(`metrics on http://${host}:${port}/metrics (on ${elector.backend})`);

await lead(
  elector,
  async (leadership) => {
    log(`leading with fencing token ${leadership.token}`);
    await new Promise((resolve) =>
      leadership.signal.addEventListener("abort", resolve, { once: true }),
    );
    log("no longer leading");
  },
  { signal: shutdown.signal },
);
metrics.stop();
await elector.close();
await provider.shutdown();
server.close();
log("stopped");
