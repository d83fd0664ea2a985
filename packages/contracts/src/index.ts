export * from './environment.js';
export * from './events.js';
export * from './messages.js';
export * from './notifications.js';
export * from './primitives.js';
export * from './queues.js';
export * from './run.js';
export * from './sources.js';
