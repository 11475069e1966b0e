import { type ElectorOptions, type EtcdConfig, InvalidOptionError } from "@elector/core";
import {
  type BackendElectorOptions,
  DrivenElector,
  type ResolvedEtcdConfig,
  resolveAndBind,
} from "@elector/core/backend";
import type { Etcd3 } from "etcd3";
import { campaignClient } from "./campaign-client.js";
import { createEtcdClient } from "./client.js";
import { EtcdDriver } from "./etcd-driver.js";
import { electionKeys } from "./keys.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { LineWatch } from "./line-watch.js";
import { checkServerVersion, keepsWatchOrder, serverVersion } from "./server-version.js";

/**
 * An elector on etcd: one candidate, compatible with etcd's Go `concurrency.Election` and
 * `etcdctl elect` on the same election name.
 */
export class EtcdElector extends DrivenElector {
  /**
   * The election's name as Go and `etcdctl elect` know it: `<prefix>/<election>`, or just
   * `<election>` with the default prefix. Candidate keys are `<electionKey>/<lease hex>`.
   */
  readonly electionKey: string;

  constructor(config: ResolvedEtcdConfig, options: BackendElectorOptions) {
    const shared = config.client === undefined ? undefined : asClient(config.client);
    const client = shared ?? createEtcdClient(config);
    const keys = electionKeys(config.prefix, options.election);
    super(options, (context) => {
      // Once per client: a warning if the server can revoke live leases (etcd-io/etcd#15247).
      checkServerVersion(client, context.logger, config.requestTimeoutMs);
      const campaigns = campaignClient(client);
      // One watch of the election per client, whichever elector of it campaigns.
      const line = LineWatch.acquire(client, keys.candidates, campaigns.watchRange, context.logger);
      return new EtcdDriver(
        {
          client,
          campaignClient: campaigns,
          keeper: LeaseKeeper.of(client, context.logger),
          keys,
          lineWatch: line.watch,
          watchOrderKept: () => keepsWatchOrder(serverVersion(client) ?? ""),
          id: context.id,
          ttlSeconds: config.ttlSeconds,
          safetyMarginMs: config.safetyMarginMs,
          requestTimeoutMs: config.requestTimeoutMs,
          logger: context.logger,
        },
        () => {
          line.release();
          if (shared === undefined) client.close();
        },
      );
    });
    this.electionKey = keys.name;
  }
}

/**
 * Opens an elector for `createElector("etcd://…")`, which loads this package only when etcd
 * is chosen. Connecting is lazy: an unreachable cluster shows in `campaign()` and the reads.
 */
export async function openElector(
  config: ResolvedEtcdConfig,
  options: BackendElectorOptions,
): Promise<EtcdElector> {
  return new EtcdElector(config, options);
}

/** Options of {@link createEtcdElector}: the elector's and the etcd backend's, in one object. */
export interface EtcdElectorOptions extends ElectorOptions, Omit<EtcdConfig, "backend" | "client"> {
  /**
   * An `Etcd3` client to share: every elector on it shares its connection and one lease
   * keep-alive stream. The elector does not close it. Make it with `etcdClientOptions()` for
   * the elector's fault handling; without `client`, each elector makes and closes its own.
   */
  readonly client?: Etcd3;
}

/**
 * Creates an elector on etcd from one options object, typed as {@link EtcdElector}.
 * `createElector("etcd://…")` makes the same elector from a URL.
 *
 * @throws InvalidOptionError when an option is wrong; the message names it and its value.
 *
 * @example
 * ```ts
 * const client = new Etcd3(etcdClientOptions({ endpoints: ["10.0.0.1:2379"] }));
 * const elector = await createEtcdElector({ election: "billing-cron", client, ttlSeconds: 5 });
 * ```
 */
export async function createEtcdElector(options: EtcdElectorOptions): Promise<EtcdElector> {
  const { election, id, logger, ...etcd } = options;
  // Core's resolve-and-bind step, then this copy's own class: no instanceof across copies.
  const bound = resolveAndBind(
    { ...etcd, backend: "etcd" },
    {
      election,
      ...(id === undefined ? {} : { id }),
      ...(logger === undefined ? {} : { logger }),
    },
  );
  return new EtcdElector(bound.config, bound.options);
}

/** The shared client, if it looks like an `Etcd3` (duplicate installs defeat instanceof). */
function asClient(client: unknown): Etcd3 {
  const candidate = client as Partial<Etcd3> | null;
  if (
    typeof candidate !== "object" ||
    candidate === null ||
    typeof candidate.watch !== "function" ||
    typeof candidate.leaseClient?.leaseKeepAlive !== "function" ||
    typeof candidate.kv?.txn !== "function"
  ) {
    throw new InvalidOptionError("client", client, "an Etcd3 client of the etcd3 package");
  }
  return candidate as Etcd3;
}
