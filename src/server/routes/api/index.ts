/** The broker API, `/metrics` and the admin dashboard plugins. */
export { type AdminOptions, adminConnectionsRoutes } from './admin.js';
export { type BrokerOptions, type BrokerVault, brokerRoutes, connectionJson } from './broker.js';
export { type MetricsOptions, metricsRoutes, renderMetrics } from './metrics.js';
export { openApiRoutes } from './openapi.js';
export { type Problem, type ProblemCode, sendProblem } from './problem.js';
export { type ProxyCall, type ProxyOptions, proxyRoutes } from './proxy.js';
