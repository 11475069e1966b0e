import { expect, test } from "vitest";
import { ResourceQueue } from "./resource-queue.js";

test("ResourceQueue lets one holder per resource in at a time, in arrival order, and forgets idle resources", async () => {
  const queue = new ResourceQueue();
  const order: string[] = [];
  const releaseA = await queue.acquire("r");
  const b = queue.acquire("r").then((release) => {
    order.push("b");
    return release;
  });
  const c = queue.acquire("r").then((release) => {
    order.push("c");
    return release;
  });
  const other = await queue.acquire("s"); // another resource does not wait
  order.push("s");
  await Promise.resolve();
  expect(order).toEqual(["s"]);
  releaseA();
  releaseA(); // twice is harmless
  const releaseB = await b;
  expect(order).toEqual(["s", "b"]);
  releaseB();
  (await c)();
  other();
  expect(order).toEqual(["s", "b", "c"]);
  expect(queue.size).toBe(0);
});
