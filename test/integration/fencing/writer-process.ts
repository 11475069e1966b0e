import { fileURLToPath } from "node:url";
import { ReportingProcess } from "../../fixtures/reporting-process.js";

const script = fileURLToPath(new URL("./fenced-writer-main.ts", import.meta.url));

/** `test/integration/fencing/fenced-writer-main.ts` in a child process, run from the sources. */
export class WriterProcess extends ReportingProcess {
  readonly id: string;

  private constructor(options: WriterOptions) {
    super(`writer ${options.id}`, script, {
      ELECTOR_URL: options.url,
      ELECTION: options.election,
      WRITER_ID: options.id,
      LEDGER_URL: options.ledgerUrl,
      TICK_MS: String(options.tickMs),
      STALL_BEFORE_WRITE: String(options.stallBeforeWrite ?? 0),
    });
    this.id = options.id;
  }

  /** Starts a writer and waits until its elector exists. */
  static async start(options: WriterOptions): Promise<WriterProcess> {
    const writer = new WriterProcess(options);
    await writer.log.waitFor((event) => event.event === "ready", options.startupTimeoutMs);
    return writer;
  }
}

interface WriterOptions {
  url: string;
  election: string;
  id: string;
  ledgerUrl: string;
  tickMs: number;
  stallBeforeWrite?: number;
  startupTimeoutMs: number;
}
