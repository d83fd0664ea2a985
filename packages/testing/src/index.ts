export * from './csv.js';
export * from './lambda.js';
export * from './shared-data.js';
