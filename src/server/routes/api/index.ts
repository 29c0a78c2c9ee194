/** The broker API and `/metrics` plugins. */
export { type BrokerOptions, type BrokerVault, brokerRoutes, connectionJson } from './broker.js';
export { type MetricsOptions, metricsRoutes, renderMetrics } from './metrics.js';
export { openApiDocument } from './openapi.js';
export { type Problem, type ProblemCode, sendProblem } from './problem.js';
