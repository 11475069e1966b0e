#!/usr/bin/env node
import { main } from "./main.js";

// `elector observe | head -1`: the reader has had enough, which is no failure.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
});

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signals: process,
});
process.exitCode = code;
// Everything was closed; should a backend still hold a handle, do not hang the shell on it.
setTimeout(() => process.exit(code), 2_000).unref();
