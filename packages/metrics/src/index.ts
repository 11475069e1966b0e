export {
  type ElectorInstrumentation,
  type ElectorMetricsOptions,
  instrumentElector,
} from "./instrument.js";
