import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { messageOf, TestingSetupError } from "./errors.js";

const run = promisify(execFile);

/** Where the server certificate and key live inside the container. */
export const etcdTlsDir = "/etc/elector-tls";

/** A throwaway CA and a server certificate it signed, as files in a temporary directory. */
export interface EtcdTlsFiles {
  /** The temporary directory; removed with the server. */
  readonly dir: string;
  /** The CA certificate (PEM) that clients trust. */
  readonly caFile: string;
  /** The server certificate and key, and where etcd reads them in the container. */
  readonly server: readonly { readonly source: string; readonly target: string }[];
}

/**
 * Makes a CA and a server certificate for `127.0.0.1`, `localhost` and `host` (the address
 * clients dial, an IP address or a name) with the `openssl` CLI. Short-lived P-256 keys:
 * quick to make, and gRPC and Go both accept them.
 *
 * @throws TestingSetupError `start-failed` when `openssl` is missing or fails.
 */
export async function makeEtcdTlsFiles(host: string): Promise<EtcdTlsFiles> {
  const dir = await mkdtemp(join(tmpdir(), "elector-etcd-tls-"));
  const context = join(dir, "server");
  const openssl = async (...args: string[]): Promise<void> => {
    try {
      await run("openssl", args, { cwd: dir });
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
      throw new TestingSetupError(
        "start-failed",
        missing
          ? "EtcdContainer.withTls() needs the openssl CLI on the host to make a throwaway CA, and no openssl is on the PATH; install OpenSSL (apt-get install openssl) or drop withTls()"
          : `EtcdContainer.withTls(): openssl ${args[0]} failed: ${messageOf(error).trim()}`,
        { cause: error },
      );
    }
  };
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    // biome-ignore format: openssl arguments read best in pairs
    await openssl(
      "req", "-x509", ...ec, "-days", "2", "-subj", "/CN=elector test CA",
      "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign",
      "-keyout", "ca-key.pem", "-out", "ca.pem",
    );
    await mkdir(context);
    // biome-ignore format: openssl arguments read best in pairs
    await openssl(
      "req", ...ec, "-subj", "/CN=localhost",
      "-keyout", "server/server-key.pem", "-out", "server.csr",
    );
    await writeFile(
      join(dir, "server.ext"),
      `subjectAltName=${subjectAltNames(host)}\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
    );
    // biome-ignore format: openssl arguments read best in pairs
    await openssl(
      "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
      "-set_serial", "1", "-days", "2", "-extfile", "server.ext", "-out", "server/server.pem",
    );
    const server = ["server.pem", "server-key.pem"].map((file) => ({
      source: join(context, file),
      target: `${etcdTlsDir}/${file}`,
    }));
    return { dir, caFile: join(dir, "ca.pem"), server };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Removes what {@link makeEtcdTlsFiles} made; never throws. */
export async function removeEtcdTls(files: EtcdTlsFiles): Promise<void> {
  await rm(files.dir, { recursive: true, force: true });
}

/**
 * One HTTP(S) request to etcd's JSON gateway, trusting `ca` for `https:` URLs (which `fetch`
 * cannot without undici's own agent).
 */
export function etcdHttp(
  url: string,
  options: {
    readonly method?: string;
    readonly body?: string;
    readonly ca?: Buffer | undefined;
    readonly signal: AbortSignal;
  },
): Promise<{ status: number; body: string }> {
  const https = url.startsWith("https:");
  const send = https ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: options.method ?? "GET",
        signal: options.signal,
        ...(https && options.ca !== undefined ? { ca: options.ca } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/**
 * `IP:127.0.0.1,DNS:localhost`, and `host` unless it is one of those.
 *
 * @throws TestingSetupError `invalid-option` when `host` is neither an IP address nor a DNS
 * name (it may come from `TESTCONTAINERS_HOST_OVERRIDE`).
 */
export function subjectAltNames(host: string): string {
  let name: string;
  if (isIP(host) !== 0) name = `IP:${host}`;
  else if (/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host)) name = `DNS:${host}`;
  else {
    throw new TestingSetupError(
      "invalid-option",
      `EtcdContainer.withTls() cannot name the Docker host ${JSON.stringify(host)} in a certificate: it is neither an IP address nor a DNS name; check TESTCONTAINERS_HOST_OVERRIDE`,
    );
  }
  return [...new Set(["IP:127.0.0.1", "DNS:localhost", name])].join(",");
}
