import { connect } from "node:net";

/**
 * Sends a ZooKeeper four-letter word over a new TCP connection and returns everything the
 * server wrote before closing it. From the host rather than `nc` inside the container: it
 * needs nothing from the image, and it goes the way clients go.
 */
export function sendFourLetterWord(
  host: string,
  port: number,
  word: string,
  signal: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host, port });
    const onAbort = (): void => {
      socket.destroy();
      reject(
        new Error(`no answer to "${word}" from ${host}:${port} in time`, { cause: signal.reason }),
      );
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    socket.on("connect", () => socket.end(word));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(error);
    });
    socket.on("close", (hadError) => {
      signal.removeEventListener("abort", onAbort);
      if (!hadError) resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}
