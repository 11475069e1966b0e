/** One server of the connect string. */
export interface Host {
  readonly host: string;
  readonly port: number;
  /** `host:port`, as given. */
  readonly address: string;
}

/**
 * The servers to connect to, shuffled once so that clients spread over the ensemble, and the
 * one to try now. The index moves by exactly one per failed or lost connection, so every
 * server is tried in turn whatever the list's length (the C client moved twice per failure,
 * and with an even number of servers never reached half of them).
 */
export class HostList {
  readonly #hosts: readonly Host[];
  #index = 0;

  /**
   * @param servers `host:port` each; `[v6]:port` for an IPv6 address.
   * @throws TypeError when the list is empty or a server has no valid port.
   */
  constructor(servers: readonly string[], random: () => number = Math.random) {
    if (servers.length === 0) throw new TypeError("servers must name at least one host:port");
    const hosts = servers.map(parseHost);
    for (let index = hosts.length - 1; index > 0; index -= 1) {
      const other = Math.floor(random() * (index + 1));
      [hosts[index], hosts[other]] = [hosts[other] as Host, hosts[index] as Host];
    }
    this.#hosts = hosts;
  }

  get size(): number {
    return this.#hosts.length;
  }

  /** Every server, in the order they are tried. */
  get order(): readonly Host[] {
    return this.#hosts;
  }

  current(): Host {
    return this.#hosts[this.#index] as Host;
  }

  /** Moves to the next server, after the last one back to the first. */
  advance(): void {
    this.#index = (this.#index + 1) % this.#hosts.length;
  }
}

function parseHost(address: string): Host {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`servers must be host:port each, got ${JSON.stringify(address)}`);
  }
  return { host, port, address };
}
