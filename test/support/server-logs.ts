import type { StartedServerContainer } from "@elector/testing";
import { afterEach } from "vitest";

/**
 * Prints the log of every server `servers()` returns after a test that failed, so that a red
 * CI run shows what the servers saw.
 */
export function printServerLogsOnFailure(
  servers: () => readonly (StartedServerContainer | undefined)[],
): void {
  afterEach(async (context) => {
    if (context.task.result?.state !== "fail") return;
    for (const server of servers()) {
      if (server === undefined) continue;
      const text = await server.logs().catch((error: unknown) => `(no log: ${String(error)})`);
      console.log(`--- log of ${server.description} (${server.getName()}) ---\n${text}`);
    }
  });
}
