import { PostgreSqlContainer, type StartedPostgreSqlContainer } from "@elector/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { printServerLogsOnFailure } from "../../support/server-logs.js";

describe("PostgreSqlContainer", () => {
  let postgres: StartedPostgreSqlContainer | undefined;

  beforeAll(async () => {
    postgres = await new PostgreSqlContainer().start();
  });
  afterAll(async () => {
    await postgres?.remove();
  });
  printServerLogsOnFailure(() => [postgres]);

  it("answers select 1 through pg at getConnectionUri(), as the configured user and database", async () => {
    if (postgres === undefined) throw new Error("postgres did not start");
    expect(postgres.getConnectionUri()).toBe(
      `postgresql://elector:elector@127.0.0.1:${postgres.getPort()}/elector`,
    );
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
