import { describe, expect, it } from "vitest";
import { HostList } from "./host-list.js";

describe("HostList", () => {
  it("tries every server of an even-sized list in turn, one step per failure", () => {
    const list = new HostList(["a:1", "b:2", "c:3", "d:4"]);
    const seen = new Set<string>();
    for (let step = 0; step < 4; step += 1) {
      seen.add(list.current().address);
      list.advance();
    }
    expect(seen.size).toBe(4);
    expect(list.current()).toBe(list.order[0]);
  });

  it("shuffles once, so that clients spread over the ensemble", () => {
    const orders = new Set<string>();
    for (let run = 0; run < 50; run += 1) {
      orders.add(new HostList(["a:1", "b:2", "c:3"]).order.map((host) => host.host).join());
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it("parses IPv6 addresses and refuses a server without a port", () => {
    expect(new HostList(["[::1]:2181"]).current()).toMatchObject({ host: "::1", port: 2181 });
    expect(() => new HostList(["zk1"])).toThrow('servers must be host:port each, got "zk1"');
    expect(() => new HostList([])).toThrow("at least one");
  });
});
