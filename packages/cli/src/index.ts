export type { CliIo, Output, SignalSource } from "./io.js";
export { main } from "./main.js";
