export * from './csv.js';
export * from './expected-series.js';
export * from './geo-diff.js';
export * from './lambda.js';
export * from './shared-data.js';
export * from './source-server.js';
