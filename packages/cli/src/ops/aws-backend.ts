import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CancelMessageMoveTaskCommand,
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type FetcherInput, type FetcherResult, QUEUES, type QueueKey } from '@covid-etl/contracts';
import {
  createLogger,
  DynamoGeoLedger,
  EventBridgePublisher,
  GeoSeriesReader,
  GeoSeriesStore,
  HeldRunRepository,
  LedgerRepository,
  RunFinalizer,
  type RunItem,
  SeriesRepository,
  SqsMessageSender,
} from '@covid-etl/platform';
import { type CallPolicy, callAws } from './aws-call.js';
import {
  chunkMessages,
  type DeadLetterQueue,
  type DlqDepth,
  type DlqMessage,
  type MoveTask,
  type MoveTaskStatus,
  type OperatorBackend,
  type ReceivedDlqMessage,
  type RevertMessage,
  STANDALONE_DLQS,
} from './backend.js';
import { type OperatorConfig, REPLAY_TO } from './config.js';
import { FunctionInvocationError, OperatorError } from './errors.js';

/** The SDK clients the AWS backend uses; created once per command, in `createAwsClients`. */
export interface AwsClients {
  sqs: SQSClient;
  lambda: LambdaClient;
  doc: DynamoDBDocumentClient;
}

/**
 * Creates the clients for `region` with the standard credential chain. The Lambda client does
 * not retry by itself: a manual run retried after a network error would start a second run
 * (the backend retries only throttling, which AWS refused before running anything).
 */
export function createAwsClients(region: string): AwsClients {
  return {
    sqs: new SQSClient({ region }),
    lambda: new LambdaClient({ region, maxAttempts: 1 }),
    doc: DynamoDBDocumentClient.from(new DynamoDBClient({ region }), {
      marshallOptions: { removeUndefinedValues: true },
    }),
  };
}

const QUEUE_KEYS: readonly QueueKey[] = ['transformer', 'loader', 'notifier'];

/** Seconds a peeked message stays hidden before it is handed back (it is handed back at once). */
export const PEEK_VISIBILITY_SECONDS = 10;

/** The replay target a `replay_to` names (`queue:<key>`, `function:<key>`, `record`); undefined when it names nothing. */
export function replayTarget(config: OperatorConfig, replayTo: string | undefined): DeadLetterQueue['target'] {
  const match = replayTo === undefined ? null : REPLAY_TO.exec(replayTo);
  if (!match) return undefined;
  const [, kind, key] = match;
  if (kind === undefined) return { kind: 'record' };
  if (kind === 'function') {
    const functionName = key === undefined ? undefined : config.functions[key];
    return functionName ? { kind: 'function', functionName } : undefined;
  }
  const queue = QUEUE_KEYS.find((k) => k === key);
  if (!queue) return undefined;
  const { url, arn } = config.queues[queue];
  // A rule target's DLQ is not the queue's redrive DLQ: SQS cannot move its messages there.
  return { kind: 'queue', key: queue, name: nameOfUrl(url), url, arn, redrive: false };
}

/**
 * The operator backend on AWS: SQS for the dead-letter queues (GetQueueAttributes,
 * ReceiveMessage + ChangeMessageVisibility to peek, StartMessageMoveTask to redrive), Lambda to
 * start runs, and the platform's ledger and series repositories on the deployed tables. Every
 * call goes through `callAws` (throttling retried, access denied named): SQS and Lambda calls
 * explicitly, DynamoDB calls through the client's middleware (`routeThroughCallAws`).
 */
export class AwsOperatorBackend implements OperatorBackend {
  readonly kind = 'aws' as const;
  readonly environment: string;
  readonly ledger: LedgerRepository;
  readonly series: SeriesRepository;
  readonly geoSeries: GeoSeriesReader;
  readonly geoDays: GeoSeriesStore;
  readonly geoLedger: DynamoGeoLedger;
  readonly held: HeldRunRepository;
  private readonly closers: Array<() => void> = [];

  constructor(
    readonly config: OperatorConfig,
    private readonly clients: AwsClients,
    readonly source: string,
    private readonly policy: CallPolicy = {},
    private readonly now: () => number = Date.now,
  ) {
    this.environment = config.environment;
    routeThroughCallAws(clients.doc, policy);
    this.ledger = new LedgerRepository(clients.doc, config.tables.ledger);
    this.series = new SeriesRepository(clients.doc, config.tables.data);
    this.geoSeries = new GeoSeriesReader(clients.doc, config.tables.data);
    this.geoDays = new GeoSeriesStore(clients.doc, config.tables.data);
    this.geoLedger = new DynamoGeoLedger(clients.doc, config.tables.ledger);
    this.held = new HeldRunRepository(clients.doc, config.tables.ledger);
  }

  listRuns(limit: number): Promise<RunItem[]> {
    return this.ledger.listRuns(limit);
  }

  async startRun(input: FetcherInput): Promise<FetcherResult> {
    const functionName = this.config.functions.fetcher;
    const payload = await this.invoke(functionName, JSON.stringify(input));
    const result = payload as Partial<FetcherResult> | undefined;
    if (!result || typeof result.runId !== 'string') {
      throw new FunctionInvocationError(functionName, `unexpected answer ${JSON.stringify(payload)?.slice(0, 200)}`);
    }
    return result as FetcherResult;
  }

  async sendToLoader(messages: Iterable<RevertMessage> | AsyncIterable<RevertMessage>): Promise<void> {
    const queue = this.config.queues.loader;
    const sender = new SqsMessageSender(this.clients.sqs, queue.url);
    await this.call('sqs:SendMessageBatch', nameOfUrl(queue.url), () => sender.sendAll(chunkMessages(messages)));
  }

  deadLetterQueues(): DeadLetterQueue[] {
    const queues: DeadLetterQueue[] = QUEUE_KEYS.map((key) => {
      const q = this.config.queues[key];
      return {
        key,
        name: nameOfUrl(q.dlq_url),
        url: q.dlq_url,
        arn: q.dlq_arn,
        description: `${QUEUES[key].consumer === 'notifier' ? 'run-outcome events' : 'month chunks'} the ${key} failed ${QUEUES[key].maxReceiveCount} times`,
        target: { kind: 'queue', key, name: nameOfUrl(q.url), url: q.url, arn: q.arn, redrive: true },
      };
    });
    for (const [key, q] of Object.entries(this.config.dead_letter_queues ?? {})) {
      const known = STANDALONE_DLQS[key];
      const target = replayTarget(this.config, q.replay_to ?? known?.replayTo);
      queues.push({
        key,
        name: nameOfUrl(q.url),
        url: q.url,
        arn: q.arn,
        description: known?.description ?? `dead-letter queue (replays to ${q.replay_to ?? 'nowhere known'})`,
        ...(target ? { target } : {}),
      });
    }
    return queues;
  }

  async depth(dlq: DeadLetterQueue, { age = true }: { age?: boolean } = {}): Promise<DlqDepth> {
    const response = await this.call('sqs:GetQueueAttributes', dlq.name, () =>
      this.clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: dlq.url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      ),
    );
    const visible = Number(response.Attributes?.ApproximateNumberOfMessages ?? 0);
    const inFlight = Number(response.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    let oldestAgeMs: number | null = null;
    if (visible > 0 && age) {
      // ApproximateAgeOfOldestMessage is a CloudWatch metric only: sample one receive instead.
      const sample = await this.receive(dlq, 5);
      await this.release(dlq, sample);
      const sent = sample.map((m) => Date.parse(m.sentAt ?? '')).filter((t) => Number.isFinite(t));
      if (sent.length > 0) oldestAgeMs = Math.max(0, this.now() - Math.min(...sent));
    }
    return { visible, inFlight, oldestAgeMs, ageBasis: 'sample' };
  }

  async peek(dlq: DeadLetterQueue, max: number): Promise<DlqMessage[]> {
    const seen = new Map<string, ReceivedDlqMessage>();
    const handles: ReceivedDlqMessage[] = [];
    try {
      while (seen.size < max) {
        const batch = await this.receive(dlq, PEEK_VISIBILITY_SECONDS);
        handles.push(...batch);
        const fresh = batch.filter((m) => !seen.has(m.messageId));
        if (fresh.length === 0) break;
        for (const m of fresh) seen.set(m.messageId, m);
      }
    } finally {
      await this.release(dlq, handles);
    }
    return [...seen.values()].slice(0, max).map(({ receiptHandle: _handle, ...message }) => message);
  }

  async receive(dlq: DeadLetterQueue, visibilitySeconds: number): Promise<ReceivedDlqMessage[]> {
    const response = await this.call('sqs:ReceiveMessage', dlq.name, () =>
      this.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlq.url,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: visibilitySeconds,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      ),
    );
    return (response.Messages ?? []).filter(isComplete).map(toReceived);
  }

  async deliver(dlq: DeadLetterQueue, message: ReceivedDlqMessage): Promise<void> {
    const target = dlq.target;
    if (!target) throw new OperatorError(`${dlq.name} has nowhere to replay its messages to`);
    if (target.kind === 'queue') {
      await this.call('sqs:SendMessage', target.name, () =>
        this.clients.sqs.send(
          new SendMessageCommand({
            QueueUrl: target.url,
            MessageBody: message.body,
            ...(Object.keys(message.messageAttributes).length > 0
              ? { MessageAttributes: message.messageAttributes as Record<string, MessageAttributeValue> }
              : {}),
          }),
        ),
      );
      return;
    }
    if (target.kind === 'function') {
      await this.invoke(target.functionName, message.body);
      return;
    }
    const record = parseDestinationRecord(message.body);
    if (!record) throw new OperatorError(`Message ${message.messageId} of ${dlq.name} is not a Lambda failure record`);
    await this.invoke(record.functionArn, JSON.stringify(record.requestPayload));
  }

  async deleteMessage(dlq: DeadLetterQueue, message: ReceivedDlqMessage): Promise<void> {
    await this.call('sqs:DeleteMessage', dlq.name, () =>
      this.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: dlq.url, ReceiptHandle: message.receiptHandle })),
    );
  }

  async release(dlq: DeadLetterQueue, messages: readonly ReceivedDlqMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const entries = messages.slice(i, i + 10).map((m, n) => ({
        Id: String(n),
        ReceiptHandle: m.receiptHandle,
        VisibilityTimeout: 0,
      }));
      // A handle that failed (expired) needs nothing: the message is visible again anyway.
      await this.call('sqs:ChangeMessageVisibility', dlq.name, () =>
        this.clients.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: dlq.url, Entries: entries })),
      );
    }
  }

  async startMove(dlq: DeadLetterQueue, rate: number | undefined): Promise<MoveTask> {
    this.assertRedrive(dlq);
    const response = await this.call('sqs:StartMessageMoveTask', dlq.name, () =>
      this.clients.sqs.send(
        new StartMessageMoveTaskCommand({
          SourceArn: dlq.arn,
          ...(rate ? { MaxNumberOfMessagesPerSecond: rate } : {}),
        }),
      ),
    );
    return {
      ...(response.TaskHandle ? { taskHandle: response.TaskHandle } : {}),
      status: 'RUNNING',
      moved: 0,
      ...(rate ? { rate } : {}),
    };
  }

  async latestMoveTask(dlq: DeadLetterQueue): Promise<MoveTask | undefined> {
    this.assertRedrive(dlq);
    const response = await this.call('sqs:ListMessageMoveTasks', dlq.name, () =>
      this.clients.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlq.arn, MaxResults: 1 })),
    );
    const task = response.Results?.[0];
    if (!task) return undefined;
    return {
      ...(task.TaskHandle ? { taskHandle: task.TaskHandle } : {}),
      status: (task.Status ?? 'RUNNING') as MoveTaskStatus,
      moved: Number(task.ApproximateNumberOfMessagesMoved ?? 0),
      ...(task.ApproximateNumberOfMessagesToMove !== undefined
        ? { toMove: Number(task.ApproximateNumberOfMessagesToMove) }
        : {}),
      ...(task.MaxNumberOfMessagesPerSecond ? { rate: task.MaxNumberOfMessagesPerSecond } : {}),
      ...(task.StartedTimestamp ? { startedAt: new Date(Number(task.StartedTimestamp)).toISOString() } : {}),
      ...(task.FailureReason ? { failureReason: task.FailureReason } : {}),
    };
  }

  async cancelMove(dlq: DeadLetterQueue, taskHandle: string): Promise<{ moved: number }> {
    const response = await this.call('sqs:CancelMessageMoveTask', dlq.name, () =>
      this.clients.sqs.send(new CancelMessageMoveTaskCommand({ TaskHandle: taskHandle })),
    );
    return { moved: Number(response.ApproximateNumberOfMessagesMoved ?? 0) };
  }

  finalizer(): RunFinalizer {
    const bus = this.config.event_bus_name;
    if (!bus) {
      throw new OperatorError(
        `The operator configuration of ${this.environment} has no event_bus_name: apply the current Terraform first`,
      );
    }
    const eventBridge = new EventBridgeClient({ region: this.config.region });
    this.closers.push(() => eventBridge.destroy());
    const publisher = new EventBridgePublisher(eventBridge, bus);
    return new RunFinalizer({
      ledger: this.ledger,
      events: {
        publish: (events) => this.call('events:PutEvents', `event bus ${bus}`, () => publisher.publish(events)),
      },
      logger: createLogger({ service: 'cli', level: 'silent' }),
    });
  }

  async settle(): Promise<void> {
    // In AWS the event source mappings consume the replayed messages by themselves.
  }

  describeMoveStart(dlq: DeadLetterQueue, destination: string, rate: number | undefined): string {
    return `Starting an SQS message move task: ${dlq.name} → ${destination}${rate ? ` at ${rate}/s` : ''}`;
  }

  async afterReplay(task: MoveTask, runIds: readonly string[]): Promise<string | undefined> {
    if (task.status !== 'COMPLETED') return undefined;
    const env = ` --env ${this.environment}`;
    const follow = runIds.map((runId) => `pnpm etl status ${runId}${env}`).join('; ') || `pnpm etl runs${env}`;
    return `The pipeline consumes the replayed messages now. Follow: ${follow}`;
  }

  async close(): Promise<void> {
    for (const close of this.closers) close();
    this.clients.sqs.destroy();
    this.clients.lambda.destroy();
    this.clients.doc.destroy();
  }

  /** Invokes a function synchronously; answers its parsed payload, throws on FunctionError. */
  private async invoke(functionName: string, payload: string): Promise<unknown> {
    const response = await this.call('lambda:InvokeFunction', functionName, () =>
      this.clients.lambda.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(payload),
        }),
      ),
    );
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (response.FunctionError) {
      const error = parsed as { errorType?: string; errorMessage?: string } | undefined;
      throw new FunctionInvocationError(
        functionName,
        `${error?.errorType ?? response.FunctionError}: ${error?.errorMessage ?? text}`.slice(0, 500),
      );
    }
    return parsed;
  }

  private assertRedrive(dlq: DeadLetterQueue): void {
    if (dlq.target?.kind !== 'queue' || !dlq.target.redrive) {
      throw new OperatorError(
        `${dlq.name} is not the dead-letter queue of an SQS queue, so SQS cannot redrive it: replay it message by message (--run, or without --cancel)`,
      );
    }
  }

  private call<T>(action: string, resource: string, fn: () => Promise<T>): Promise<T> {
    return callAws(action, resource, fn, this.policy);
  }
}

/**
 * Routes every DynamoDB call of `doc` (the ledger's and the series' repositories) through
 * `callAws`, as SDK middleware around the whole call: throttling retried with the backend's
 * policy, failures named with the action and the table (and index). Installing it again on the
 * same client replaces it.
 */
export function routeThroughCallAws(doc: DynamoDBDocumentClient, policy: CallPolicy = {}): void {
  doc.middlewareStack.add(
    (next, context) => (args) => {
      const input = args.input as { TableName?: string; IndexName?: string };
      const action = `dynamodb:${(context.commandName ?? 'Command').replace(/Command$/, '')}`;
      const resource = `DynamoDB table ${input.TableName ?? '(unnamed)'}${input.IndexName ? ` index ${input.IndexName}` : ''}`;
      return callAws(action, resource, () => next(args), policy);
    },
    { step: 'initialize', name: 'operatorCallAws', override: true },
  );
}

/** `https://sqs.us-east-1.amazonaws.com/123/covid-etl-dev-loader-dlq` → `covid-etl-dev-loader-dlq`. */
export function nameOfUrl(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

function isComplete(message: Message): message is Message & { MessageId: string; ReceiptHandle: string } {
  return typeof message.MessageId === 'string' && typeof message.ReceiptHandle === 'string';
}

function toReceived(message: Message & { MessageId: string; ReceiptHandle: string }): ReceivedDlqMessage {
  const attributes = message.Attributes ?? {};
  const time = (value: string | undefined) => (value ? new Date(Number(value)).toISOString() : null);
  const messageAttributes: DlqMessage['messageAttributes'] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      DataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
    };
  }
  return {
    messageId: message.MessageId,
    receiptHandle: message.ReceiptHandle,
    body: message.Body ?? '',
    messageAttributes,
    // This receive counts too: report the receives before it.
    receiveCount: Math.max(0, Number(attributes.ApproximateReceiveCount ?? 1) - 1),
    firstReceivedAt: time(attributes.ApproximateFirstReceiveTimestamp),
    sentAt: time(attributes.SentTimestamp),
  };
}

/** A Lambda on-failure destination record: the function and the event it failed on. */
function parseDestinationRecord(body: string): { functionArn: string; requestPayload: unknown } | undefined {
  try {
    const record = JSON.parse(body) as { requestContext?: { functionArn?: unknown }; requestPayload?: unknown };
    const functionArn = record.requestContext?.functionArn;
    return typeof functionArn === 'string' ? { functionArn, requestPayload: record.requestPayload } : undefined;
  } catch {
    return undefined;
  }
}
