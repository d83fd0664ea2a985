/**
 * @covid-etl/local-stack: the generic engine of the embedded local stack. Everything runs in
 * this Node process (no Docker, no Java) and follows the AWS behaviour the pipeline relies on:
 *
 * - `LocalQueue`: an SQS standard queue persisted under a state folder, with visibility
 *   timeouts (scaled by `timeScale`), receive counts and redrive to a DLQ.
 * - `EventSourceMapping` + `drain`: the Lambda SQS poller contract (batch size, batching window,
 *   concurrency, `batchItemFailures` as Lambda reads them), run until every queue is empty.
 * - `LocalEventBus`: PutEvents with per-entry failures, rules matching EventBridge patterns
 *   that deliver the event envelope to queues.
 * - `LocalTopic`: SNS Publish with its validation, an email outbox of `.eml` files and Lambda
 *   subscribers.
 * - `startLocalDynamo` / `ensureTables`: dynalite on 127.0.0.1, persisted on disk.
 * - `startFunctionUrlServer`: a Lambda function URL (payload format 2.0) over node:http.
 * - `lambdaContext`: the one Lambda `Context` factory, used by all of the above.
 *
 * It knows nothing of the pipeline's services: those are wired onto it elsewhere.
 */
export { type Clock, ManualClock, sleep, systemClock } from './clock.js';
export { type DrainOptions, type DrainProgress, type DrainResult, drain, type QueueDrainState } from './drain.js';
export {
  type EnsureTablesOptions,
  ensureTables,
  type InProcessHandler,
  type LocalDynamo,
  type LocalDynamoClientConfig,
  type LocalDynamoOptions,
  localSigner,
  startLocalDynamo,
} from './dynamo.js';
export {
  type DrainLeftover,
  DrainTimeoutError,
  EventBusRequestError,
  InvalidEventPatternError,
  LambdaCrashError,
  LocalDynamoError,
  QueueRequestError,
  QueueStateError,
  TopicRequestError,
} from './errors.js';
export {
  type EventEnvelope,
  type EventRule,
  type FailedDelivery,
  formatEventTime,
  LocalEventBus,
  type LocalEventBusOptions,
  MAX_EVENT_BYTES,
  MAX_PUT_EVENTS_ENTRIES,
  type PutEventsRequestEntry,
  type PutEventsResult,
  type PutEventsResultEntry,
} from './event-bus.js';
export { type EventPattern, matchesEventPattern, validateEventPattern } from './event-pattern.js';
export {
  type BatchOutcome,
  type BatchResponseVerdict,
  EventSourceMapping,
  type EventSourceMappingOptions,
  type EventSourceMappingSettings,
  type EventSourceMappingStats,
  interpretBatchResponse,
  type PollResult,
  type SqsLambdaHandler,
  toSqsRecord,
} from './event-source-mapping.js';
export { toFunctionUrlEvent, writeFunctionUrlResult } from './function-url.js';
export { type FunctionUrlHandler, type FunctionUrlServer, startFunctionUrlServer } from './function-url-server.js';
export { type LambdaContextOptions, lambdaContext } from './lambda-context.js';
export {
  createQueueWithDeadLetterQueue,
  DEFAULT_MESSAGE_RETENTION_SECONDS,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  LocalQueue,
  type LocalQueueOptions,
  localQueueArn,
  MAX_BATCH_ENTRIES,
  MAX_VISIBILITY_TIMEOUT_SECONDS,
  type MessageAttributes,
  type MessageAttributeValue,
  messageBytes,
  type QueueMessage,
  type QueueStats,
  type QueueWithDeadLetterQueueOptions,
  type ReceivedMessage,
  type ReceiveOptions,
  type RedrivePolicy,
  readLocalQueueMessages,
  type SendMessageBatchEntry,
  type SendMessageBatchResult,
  type SendMessageResult,
} from './queue.js';
export {
  type FailedTopicDelivery,
  LocalTopic,
  type LocalTopicOptions,
  MAX_SNS_MESSAGE_BYTES,
  MAX_SNS_SUBJECT_LENGTH,
  type PublishInput,
  type PublishResult,
  SNS_LAMBDA_ATTEMPTS,
  type SnsLambdaHandler,
  validatePublish,
} from './topic.js';
