import { PostgreSqlContainer } from "@elector/testing";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { expectPublishedOnlyOnItsHost } from "../../support/published-ports.js";
import { startedForSuite } from "../../support/suite-servers.js";

describe("PostgreSqlContainer", () => {
  const started = startedForSuite("PostgreSQL", {
    start: () => new PostgreSqlContainer().start(),
    stop: (postgres) => postgres.remove(),
    servers: (postgres) => [postgres],
  });

  it("answers select 1 through pg at getConnectionUri(), as the configured user and database", async () => {
    const postgres = started();
    expect(postgres.getConnectionUri()).toBe(
      `postgresql://elector:elector@${postgres.getHost()}:${postgres.getPort()}/elector`,
    );
    await expectPublishedOnlyOnItsHost(postgres);
    const client = new pg.Client({ connectionString: postgres.getConnectionUri() });
    await client.connect();
    try {
      const result = await client.query<{ one: number; user: string; db: string }>(
        "select 1 as one, current_user as user, current_database() as db",
      );
      expect(result.rows).toEqual([{ one: 1, user: "elector", db: "elector" }]);
    } finally {
      await client.end();
    }
  });
});
