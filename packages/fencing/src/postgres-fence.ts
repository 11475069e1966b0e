import {
  FenceStoreError,
  InvalidFencingOptionError,
  isFenceStoreError,
  isFencingError,
  StaleTokenError,
} from "./errors.js";
import {
  abortable,
  checkResource,
  checkSignal,
  type Fence,
  type FenceCallOptions,
} from "./fence.js";
import { FencingToken } from "./token.js";

// The part of `pg` that the fence uses, typed structurally: a `pg` Pool, PoolClient or Client
// fits, and an app that fences with etcd compiles without pg installed.

/** What a query returns (the part of pg's `QueryResult` that the fence reads). */
export interface PgResult {
  /** The rows the statement returned. */
  readonly rows: readonly unknown[];
  /** How many rows the statement returned or changed. */
  readonly rowCount: number | null;
}

/** Anything that runs a parameterized query: a `pg` Pool, PoolClient or Client. */
export interface PgQueryable {
  /** Runs `text` with `$1`… bound to `values`. */
  query(text: string, values?: unknown[]): Promise<PgResult>;
}

/** A connection checked out of a pool (pg's `PoolClient`). */
export interface PgPoolClient extends PgQueryable {
  /** Returns the connection to its pool, or destroys it when given an error or `true`. */
  release(error?: Error | boolean): void;
}

/** A pool that hands out connections (pg's `Pool`), for {@link PostgresFence.transaction}. */
export interface PgPool extends PgQueryable {
  /** Checks a connection out of the pool. */
  connect(): Promise<PgPoolClient>;
}

/** Options of {@link PostgresFence}. */
export interface PostgresFenceOptions {
  /**
   * The table of high-water marks, optionally schema-qualified (`fencing.marks`): letters,
   * digits and underscores, not starting with a digit. Create it with
   * {@link PostgresFence.createTable} or the statement of {@link PostgresFence.tableDefinition}.
   *
   * @defaultValue `"elector_fences"`
   */
  readonly table?: string;
}

/**
 * Options of {@link PostgresFence.transaction}: `signal`, checked before the transaction
 * begins and before it commits (an abort then rolls back).
 */
export type PostgresTransactionOptions = FenceCallOptions;

const identifier = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * A {@link Fence} whose high-water marks are rows of a PostgreSQL table, one per resource.
 * Admission is one `INSERT … ON CONFLICT DO UPDATE … WHERE token <= $token` statement: it
 * locks the resource's row, so concurrent admissions queue on it and a stale token never
 * passes.
 *
 * Run the admission in the caller's transaction, and the check commits with the caller's
 * write or not at all: {@link transaction} does it for you, {@link withClient} binds the
 * fence to a transaction you opened. On a pool, `admit` runs on its own and only orders
 * admissions.
 *
 * @example
 * ```ts
 * const fence = new PostgresFence(pool);
 * await fence.createTable();
 * await fence.transaction("orders", leadership.token, (client) =>
 *   client.query("UPDATE orders SET status = 'billed' WHERE id = $1", [id]),
 * ); // StaleTokenError, and nothing written, once a newer leader has written
 * ```
 */
export class PostgresFence implements Fence {
  /** The table of high-water marks, as given. */
  readonly table: string;
  readonly #db: PgQueryable;
  readonly #quoted: string;

  /** @throws InvalidFencingOptionError if `db` or an option is wrong. */
  constructor(db: PgQueryable, options: PostgresFenceOptions = {}) {
    if (typeof db !== "object" || db === null || typeof db.query !== "function") {
      throw new InvalidFencingOptionError("db", db, "a pg Pool, PoolClient or Client");
    }
    const table = options.table ?? "elector_fences";
    const parts = typeof table === "string" ? table.split(".") : [];
    if (parts.length < 1 || parts.length > 2 || !parts.every((part) => identifier.test(part))) {
      throw new InvalidFencingOptionError(
        "table",
        table,
        "a table name such as elector_fences or fencing.marks (letters, digits, underscores)",
      );
    }
    this.table = table;
    this.#db = db;
    this.#quoted = parts.map((part) => `"${part}"`).join(".");
  }

  /** The `CREATE TABLE IF NOT EXISTS` statement of the fence's table, for a migration. */
  tableDefinition(): string {
    return `CREATE TABLE IF NOT EXISTS ${this.#quoted} (resource text PRIMARY KEY, token bigint NOT NULL CHECK (token > 0))`;
  }

  /**
   * Creates the fence's table if it does not exist. Prefer running
   * {@link tableDefinition} in a migration: two processes creating it at once can fail.
   *
   * @throws FenceStoreError if PostgreSQL refused.
   */
  async createTable(options?: FenceCallOptions): Promise<void> {
    const signal = checkSignal(options);
    await abortable(this.#query("creating the fence table", this.tableDefinition(), []), signal);
  }

  /**
   * A fence on the same table that runs its statements on `client`, typically a connection
   * inside a transaction you opened: its admission then commits or rolls back with your
   * writes.
   *
   * @example
   * ```ts
   * await client.query("BEGIN");
   * await fence.withClient(client).admit("orders", token); // throws if stale: roll back
   * await client.query("UPDATE orders SET …");
   * await client.query("COMMIT");
   * ```
   */
  withClient(client: PgQueryable): PostgresFence {
    return new PostgresFence(client, { table: this.table });
  }

  /**
   * Admits `token` for `resource` if no higher token was admitted, and records it. Inside a
   * transaction, the resource's row stays locked until it ends, so no other writer of that
   * resource gets between this check and your writes.
   *
   * @throws StaleTokenError if a higher token was admitted.
   * @throws InvalidFencingTokenError if `token` is not a fencing token.
   * @throws FenceStoreError if PostgreSQL failed; `retryable` tells whether trying again may
   *   help (a lost connection, a serialization failure).
   */
  async admit(resource: string, token: bigint, options?: FenceCallOptions): Promise<void> {
    checkResource(resource);
    FencingToken.check(token);
    const signal = checkSignal(options);
    await abortable(this.#admit(resource, token), signal);
  }

  async #admit(resource: string, token: bigint): Promise<void> {
    const what = `admitting token ${token} for resource ${JSON.stringify(resource)}`;
    // ON CONFLICT DO UPDATE locks the row even when WHERE is false, so the SELECT below, in
    // the same transaction, reads a mark that nobody can change before it ends.
    const admitted = await this.#query(
      what,
      `INSERT INTO ${this.#quoted} AS fence (resource, token) VALUES ($1, $2::bigint)
       ON CONFLICT (resource) DO UPDATE SET token = EXCLUDED.token
       WHERE fence.token <= EXCLUDED.token
       RETURNING token`,
      [resource, token.toString()],
    );
    if (admitted.rowCount === 1) return;
    const highest = await this.#highest(resource, what);
    if (highest === undefined || highest <= token) {
      throw new FenceStoreError(
        `PostgreSQL neither admitted token ${token} for resource ${JSON.stringify(resource)} nor holds a higher one`,
        { retryable: true },
      );
    }
    throw new StaleTokenError(resource, token, highest);
  }

  async highest(resource: string, options?: FenceCallOptions): Promise<bigint | undefined> {
    checkResource(resource);
    const signal = checkSignal(options);
    return abortable(
      this.#highest(resource, `reading the fence of resource ${JSON.stringify(resource)}`),
      signal,
    );
  }

  async #highest(resource: string, what: string): Promise<bigint | undefined> {
    const result = await this.#query(
      what,
      `SELECT token::text AS token FROM ${this.#quoted} WHERE resource = $1`,
      [resource],
    );
    const row = result.rows[0] as { token?: unknown } | undefined;
    if (row === undefined) return undefined;
    return BigInt(String(row.token));
  }

  /**
   * Runs `work` in a transaction that first admits `token` for `resource`: the admission and
   * `work`'s writes commit together, or neither does. A stale token rolls back before `work`
   * runs; an error thrown by `work` rolls back and is rethrown. The fence must have been
   * created on a pool.
   *
   * @returns what `work` returned, once committed.
   * @throws StaleTokenError if a higher token was admitted; `work` did not run.
   * @throws FenceStoreError if PostgreSQL failed; nothing was committed unless the failure
   *   came with COMMIT itself.
   */
  async transaction<T>(
    resource: string,
    token: bigint,
    work: (client: PgQueryable) => Promise<T>,
    options?: PostgresTransactionOptions,
  ): Promise<T> {
    checkResource(resource);
    FencingToken.check(token);
    if (typeof work !== "function") {
      throw new InvalidFencingOptionError("work", work, "a function");
    }
    const pool = this.#db as Partial<PgPool>;
    if (typeof pool.connect !== "function") {
      throw new InvalidFencingOptionError(
        "db",
        this.#db,
        "a pg Pool (with connect()) to run transaction(); use withClient() inside your own transaction",
      );
    }
    const signal = checkSignal(options);
    const client = await storeCall("connecting", () => (pool as PgPool).connect());
    let broken: Error | undefined;
    try {
      const bound = this.withClient(client);
      await bound.#query("beginning a transaction", "BEGIN", []);
      try {
        await bound.#admit(resource, token);
        const result = await work(client);
        signal?.throwIfAborted();
        await bound.#query("committing", "COMMIT", []);
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch((rollback: unknown) => {
          broken = rollback instanceof Error ? rollback : new Error(String(rollback));
        });
        throw error;
      }
    } catch (error) {
      if (isFenceStoreError(error) && error.retryable) broken ??= error;
      throw error;
    } finally {
      // A connection whose state is unknown is destroyed rather than returned to the pool.
      client.release(broken ?? false);
    }
  }

  #query(what: string, text: string, values: unknown[]): Promise<PgResult> {
    return storeCall(what, () => this.#db.query(text, values));
  }
}

// SQLSTATE classes where the same statement may succeed later: connection exceptions,
// transaction rollbacks (serialization failure, deadlock), insufficient resources, operator
// intervention (shutdown, cancel).
const retryableClasses = new Set(["08", "40", "53", "57"]);

async function storeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isFencingError(error)) throw error;
    const code = (error as { code?: unknown } | null)?.code;
    const sqlState = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
    const message = error instanceof Error ? error.message : String(error);
    const hint =
      sqlState === "42P01" ? " (create the table with createTable() or tableDefinition())" : "";
    throw new FenceStoreError(`PostgreSQL failed while ${what}: ${message}${hint}`, {
      cause: error,
      // Without a SQLSTATE the failure was the network's (ECONNREFUSED, a reset).
      retryable: sqlState === undefined || retryableClasses.has(sqlState.slice(0, 2)),
    });
  }
}
