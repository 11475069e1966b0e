import { Etcd3 } from "etcd3";
import pg from "pg";
import { expect, test } from "vitest";
import type { EtcdClient } from "./etcd-client.js";
import type { PgPool, PgQueryable } from "./postgres-fence.js";

// These compile only if the structural types fit the real clients: the fence must accept
// etcd3's and pg's objects without importing either package.

test("an etcd3 client and a namespace of it fit the EtcdClient shape", () => {
  const client = new Etcd3({ hosts: "127.0.0.1:1" });
  try {
    const whole: EtcdClient = client;
    const namespaced: EtcdClient = client.namespace("app/");
    expect(typeof whole.if).toBe("function");
    expect(typeof namespaced.getAll).toBe("function");
  } finally {
    client.close();
  }
});

test("a pg Pool fits PgPool, and a pg Client fits PgQueryable", async () => {
  const pool = new pg.Pool({ connectionString: "postgres://127.0.0.1:1/none" });
  const client = new pg.Client({ connectionString: "postgres://127.0.0.1:1/none" });
  const asPool: PgPool = pool;
  const asQueryable: PgQueryable = client;
  expect(typeof asPool.connect).toBe("function");
  expect(typeof asQueryable.query).toBe("function");
  await pool.end();
});
