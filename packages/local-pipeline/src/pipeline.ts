import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  DEFAULT_SOURCE_URLS,
  type FetcherInput,
  type FetcherResult,
  QUEUES,
  type QueueKey,
  queueName,
  RUN_OUTCOME_EVENT_PATTERN,
} from '@covid-etl/contracts';
import {
  allowedHostsFromEnv,
  createHandler as createFetcher,
  HttpSourceDownloader,
  maxSourceBytesFromEnv,
  qualityGatesFromEnv,
  UrlPolicy,
} from '@covid-etl/fetcher';
import { createHandler as createLoader } from '@covid-etl/loader';
import {
  createQueueWithDeadLetterQueue,
  type DrainProgress,
  drain,
  EventSourceMapping,
  ensureTables,
  type LocalDynamo,
  type LocalDynamoClientConfig,
  LocalEventBus,
  type LocalQueue,
  LocalTopic,
  lambdaContext,
  type SqsLambdaHandler,
  startLocalDynamo,
} from '@covid-etl/local-stack';
import { createHandler as createNotifier } from '@covid-etl/notifier';
import {
  type ChunkItem,
  type Clock,
  ConfigurationError,
  createLogger,
  DynamoGeoLedger,
  dataTableDefinition,
  GeoCatalogRepository,
  GeoSeriesReader,
  GeoSeriesStore,
  HeldRunRepository,
  LedgerRepository,
  type Logger,
  ledgerTableDefinition,
  meterAwsClient,
  RunFinalizer,
  type RunItem,
  SeriesRepository,
  systemClock,
} from '@covid-etl/platform';
import { createHandler as createTransformer } from '@covid-etl/transformer';
import {
  checkStalledRuns,
  describePendingChunks,
  fetcherStoppedReason,
  type StalledRunsReport,
} from '@covid-etl/watchdog';
import { type DestinationStream, pino } from 'pino';
import { EnvSecretReader, LocalEventPublisher, LocalNotificationPublisher, LocalQueueSender } from './adapters.js';
import { FaultInjector, type FaultMode, type FaultService } from './faults.js';
import { LOCAL_ENVIRONMENT } from './paths.js';

type SlackForwarderFactory = typeof import('@covid-etl/slack-forwarder').createHandler;

/**
 * `ETL_LOCAL_DB_MAX_OPEN_FILES`: how many table files the embedded dynalite's LevelDB keeps open
 * (and memory-mapped), a whole number from 74 (LevelDB's minimum) to 50000; unset: LevelDB's
 * 1000. Lower bounds the local stack's memory on a large table, at the cost of reopening files
 * (docs/performance.md: a daily run on the full county table, 636 MB at 1000, 306 MB and 2.4x
 * the time at 74). Anything else is refused in one line.
 */
export function localDbMaxOpenFiles(env: Record<string, string | undefined> = process.env): number | undefined {
  const raw = env.ETL_LOCAL_DB_MAX_OPEN_FILES?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 74 || value > 50_000) {
    throw new ConfigurationError(`ETL_LOCAL_DB_MAX_OPEN_FILES must be a whole number from 74 to 50000, got "${raw}"`);
  }
  return value;
}

/** Default factor applied to AWS visibility timeouts and leases locally (180 s → 0.9 s). */
export const DEFAULT_TIME_SCALE = 0.005;

/**
 * How long the queues must stay quiet before a run's drain ends (`drain`'s `idleMs`, 20 ms by
 * default). Everything that sends a message here does so inside an invocation the drain sees
 * running (the handlers await their sends; the bus and the topic deliver synchronously; no
 * message is sent with a delay, and one not yet visible again counts as in flight), so the first
 * quiet look is final: 0, not 20 ms of every run (a fifth of an unchanged re-run).
 */
const SETTLED_AFTER_MS = 0;

export interface LocalPipelineOptions {
  /** The state folder (`ETL_LOCAL_DIR`): database, queues, outbox, logs. */
  dir: string;
  /** Use this DynamoDB (e.g. AWS's DynamoDB Local) instead of the embedded dynalite. */
  dynamoEndpoint?: string;
  /** The embedded dynalite's LevelDB table cache (`ETL_LOCAL_DB_MAX_OPEN_FILES`; see `localDbMaxOpenFiles`). */
  dbMaxOpenFiles?: number;
  timeScale?: number;
  faults?: Partial<Record<FaultService, FaultMode>>;
  /** Posts notifications to this Slack incoming webhook when set. */
  slackWebhookUrl?: string;
  /** Recipient of the outbox emails. */
  emailTo?: string;
  /** Where the handlers' JSON logs go; default `<dir>/logs/pipeline.log`. */
  logFile?: string;
  clock?: Clock;
  /**
   * Called with every DynamoDB request this process makes and its answer (the request's input as
   * given, before or after DocumentClient marshalling): for request-counting tests and benchmarks.
   */
  onDynamoRequest?: (request: DynamoRequest) => void;
}

/** One DynamoDB request seen by `LocalPipelineOptions.onDynamoRequest`. */
export interface DynamoRequest {
  /** `Query`, `BatchWriteItem`, … */
  operation: string;
  input: Record<string, unknown>;
  /** The answer, when the request succeeded. */
  output?: Record<string, unknown>;
}

/** One queue of the local stack as it runs (see `LocalPipeline.queueSettings`). */
export interface LocalQueueSettings {
  name: string;
  deadLetterQueueName: string;
  visibilityTimeoutSeconds: number;
  messageRetentionSeconds: number;
  dlqMessageRetentionSeconds: number;
  maxReceiveCount: number;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  maximumConcurrency: number;
  reportBatchItemFailures: boolean;
}

export interface QueuePair {
  queue: LocalQueue;
  deadLetterQueue: LocalQueue;
}

/**
 * The whole pipeline on the embedded local stack: the deployed handler factories of every
 * service (`createHandler(deps)`), wired to local adapters: dynalite (or `dynamoEndpoint`) for
 * both tables, persisted queues with their DLQs and event source mappings using the settings
 * of `QUEUES` (visibility timeouts scaled by `timeScale`), an event bus whose rule routes run
 * outcomes to the notifier queue, and a topic that writes emails to `<dir>/outbox` and posts
 * to Slack when a webhook URL is set.
 */
export class LocalPipeline {
  readonly ledger: LedgerRepository;
  readonly series: SeriesRepository;
  /** The geography catalogue and county summaries (data table, `GEOS` and `COUNTIES#<state>`). */
  readonly geos: GeoCatalogRepository;
  /** Any one geography's series (data table, `pk = <geo id>`). */
  readonly geoSeries: GeoSeriesReader;
  /** The states' and counties' day hashes, rejections and per-level plans (ledger table). */
  readonly geoLedger: DynamoGeoLedger;
  /** The states' and counties' days as the loader writes them (data table). */
  readonly geoStore: GeoSeriesStore;
  /** HELD runs' snapshots and per-geography trips (ledger table): the fetcher's, and what `etl status` reads. */
  readonly held: HeldRunRepository;
  readonly queues: Record<QueueKey, QueuePair>;
  readonly bus: LocalEventBus;
  readonly topic: LocalTopic;
  readonly outboxDir: string;
  readonly logFile: string;
  readonly tables: { data: string; ledger: string };
  /** DynamoDB requests made by this process, by operation (`PutItem`, `Query`, …). */
  readonly dynamoRequests: Record<string, number> = {};
  /** Items DynamoDB returned to this process's reads (GetItem, Query, BatchGetItem), by table. */
  readonly itemsRead: Record<string, number> = {};
  /** DynamoDB requests made by this process, by table and operation (items read: `itemsRead`). */
  readonly dynamoRequestsByTable: Record<string, Record<string, number>> = {};
  private readonly mappings: EventSourceMapping[];
  private readonly invokeFetcher: (input: FetcherInput) => Promise<FetcherResult>;
  private readonly watchdogDeps: Parameters<typeof checkStalledRuns>[0];
  /** Ends and announces runs on the local bus (the same finalizer the handlers use). */
  readonly finalizer: RunFinalizer;

  private constructor(
    readonly options: LocalPipelineOptions,
    private readonly dynamo: LocalDynamo | undefined,
    readonly endpoint: string,
    readonly logger: Logger,
    logDestination: DestinationStream,
    slackForwarder?: SlackForwarderFactory,
  ) {
    // Each service logs as in Lambda, with its own logger (one `service` key per line: a child
    // of the local stack's logger would write `"service"` twice), into the same log file.
    const serviceLogger = (service: string) =>
      createLogger({ service, level: logger.level, destination: logDestination });
    const timeScale = options.timeScale ?? DEFAULT_TIME_SCALE;
    const clock = options.clock ?? systemClock;
    const scaled = (seconds: number) => Math.max(1, Math.round(seconds * 1000 * timeScale));
    this.tables = { data: 'covid-etl-local-data', ledger: 'covid-etl-local-ledger' };
    const dynamoClient = localDynamoClient(endpoint, dynamo?.clientConfig);
    // Counts DynamoDB requests by operation, for the benchmark and for tests.
    dynamoClient.middlewareStack.add(
      (next, context) => async (args) => {
        const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        this.dynamoRequests[name] = (this.dynamoRequests[name] ?? 0) + 1;
        const input = args.input as { TableName?: string; RequestItems?: Record<string, unknown> };
        const requestTable = input.TableName ?? Object.keys(input.RequestItems ?? {})[0] ?? 'unknown';
        const byTable = this.dynamoRequestsByTable[requestTable] ?? {};
        this.dynamoRequestsByTable[requestTable] = byTable;
        byTable[name] = (byTable[name] ?? 0) + 1;
        const result = await next(args);
        options.onDynamoRequest?.({
          operation: name,
          input: args.input as Record<string, unknown>,
          output: result.output as unknown as Record<string, unknown>,
        });
        const output = result.output as { Item?: unknown; Items?: unknown[]; Responses?: Record<string, unknown[]> };
        const table = String((args.input as { TableName?: string }).TableName ?? '');
        const read = (t: string, n: number) => {
          if (n > 0) this.itemsRead[t] = (this.itemsRead[t] ?? 0) + n;
        };
        read(table, (output.Items?.length ?? 0) + (output.Item ? 1 : 0));
        for (const [t, items] of Object.entries(output.Responses ?? {})) read(t, items.length);
        return result;
      },
      { step: 'initialize', name: 'countRequests' },
    );
    const doc = DynamoDBDocumentClient.from(dynamoClient, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.ledger = new LedgerRepository(doc, this.tables.ledger);
    this.series = new SeriesRepository(doc, this.tables.data);
    this.geos = new GeoCatalogRepository(doc, this.tables.data);
    this.geoSeries = new GeoSeriesReader(doc, this.tables.data);
    this.geoLedger = new DynamoGeoLedger(doc, this.tables.ledger);
    this.geoStore = new GeoSeriesStore(doc, this.tables.data);
    this.held = new HeldRunRepository(doc, this.tables.ledger);

    const stateDir = options.dir;
    const pair = (key: QueueKey): QueuePair =>
      createQueueWithDeadLetterQueue({
        name: queueName(LOCAL_ENVIRONMENT, key),
        settings: QUEUES[key],
        stateDir,
        timeScale,
      });
    this.queues = { transformer: pair('transformer'), loader: pair('loader'), notifier: pair('notifier') };

    this.bus = new LocalEventBus({ name: `covid-etl-${LOCAL_ENVIRONMENT}` });
    this.bus.addRule({
      name: 'run-outcomes-to-notifier',
      eventPattern: RUN_OUTCOME_EVENT_PATTERN,
      target: this.queues.notifier.queue,
    });
    this.outboxDir = path.join(options.dir, 'outbox');
    mkdirSync(this.outboxDir, { recursive: true });
    this.topic = new LocalTopic({ name: `covid-etl-${LOCAL_ENVIRONMENT}-notifications` });
    this.topic.subscribeEmail(this.outboxDir, options.emailTo ?? 'operator@localhost');
    this.logFile = options.logFile ?? path.join(options.dir, 'logs', 'pipeline.log');

    const events = new LocalEventPublisher(this.bus);
    const finalizer = new RunFinalizer({
      ledger: this.ledger,
      events,
      logger,
      clock,
      eventLeaseMs: scaled(QUEUES.loader.functionTimeoutSeconds * 2),
      versions: this.series.versions,
    });
    this.finalizer = finalizer;
    const faults = options.faults ?? {};
    const injector = (service: FaultService) => new FaultInjector(service, faults[service]);

    // fetcher: invoked directly, like the schedule's asynchronous invocation.
    const fetcher = createFetcher(
      {
        environment: LOCAL_ENVIRONMENT,
        defaultUrls: DEFAULT_SOURCE_URLS,
        ledger: this.ledger,
        // Locally a run loads the nation unless its input lists levels (`etl run --levels`).
        levels: ['nation'],
        geoLedger: this.geoLedger,
        geoSeries: this.geoStore,
        geoCatalog: this.geos,
        held: this.held,
        series: this.series,
        gates: qualityGatesFromEnv(),
        transformerQueue: new LocalQueueSender(this.queues.transformer.queue),
        downloader: new HttpSourceDownloader({
          timeoutMs: 15_000,
          maxAttempts: 3,
          baseDelayMs: 200,
          // The body cap of the deployed fetcher (`MAX_SOURCE_BYTES`, default 256 MiB, as the
          // Terraform module's): the full county file fits, locally as in AWS.
          maxBytes: maxSourceBytesFromEnv(),
          policy: new UrlPolicy({ environment: LOCAL_ENVIRONMENT, allowedHosts: allowedHostsFromEnv() }),
        }),
        finalizer,
        clock,
        logger: serviceLogger('fetcher'),
      },
      { timeoutEarlyInMillis: 0 },
    );
    this.invokeFetcher = (input) =>
      fetcher(
        input,
        // The deployed fetcher's timeout (terraform/modules/pipeline: 900 s, for the county backfill):
        // planning the full county file locally takes minutes on a loaded machine.
        lambdaContext({ functionName: `covid-etl-${LOCAL_ENVIRONMENT}-fetcher`, timeoutMs: 900_000 }),
      ) as Promise<FetcherResult>;

    // transformer
    const transformerFaults = injector('transformer');
    const loaderSender = new LocalQueueSender(this.queues.loader.queue);
    const transformer = createTransformer(
      {
        ledger: this.ledger,
        loaderQueue: { sendAll: transformerFaults.wrapWrite((messages) => loaderSender.sendAll(messages)) },
        logger: serviceLogger('transformer'),
      },
      { timeoutEarlyInMillis: 0, beforeProcess: transformerFaults.beforeProcess },
    );

    // loader
    const loaderFaults = injector('loader');
    const series = this.series;
    // Each BatchWriteItem request is one write: a crash can fall between two of them.
    const loaderSeries = Object.assign(Object.create(series) as SeriesRepository, {
      writeBatch: loaderFaults.wrapWrite(series.writeBatch.bind(series)),
    });
    const geoStore = this.geoStore;
    const loaderGeoSeries = Object.assign(Object.create(geoStore) as GeoSeriesStore, {
      writeChanges: loaderFaults.wrapWrite(geoStore.writeChanges.bind(geoStore)),
    });
    // A geo part's crash points: its days written (before the catalogue), the catalogue updated (before its mark).
    const geos = this.geos;
    const loaderGeoCatalog: Pick<GeoCatalogRepository, 'applyLoaded'> = {
      applyLoaded: async (input) => {
        loaderFaults.at('days-written');
        const counts = await geos.applyLoaded(input);
        loaderFaults.at('catalogue-updated');
        return counts;
      },
    };
    const loader = createLoader(
      {
        ledger: this.ledger,
        series: loaderSeries,
        geoLedger: this.geoLedger,
        geoSeries: loaderGeoSeries,
        geoCatalog: loaderGeoCatalog,
        finalizer,
        clock,
        logger: serviceLogger('loader'),
        monthLeaseMs: scaled(QUEUES.loader.functionTimeoutSeconds * 2),
      },
      { timeoutEarlyInMillis: 0, beforeProcess: loaderFaults.beforeProcess },
    );

    // notifier (faults at the handler level: it has no chunk to record them on)
    const notifierFaults = injector('notifier');
    const publisher = new LocalNotificationPublisher(this.topic);
    const notifier = createNotifier(
      {
        ledger: this.ledger,
        publisher: { publish: notifierFaults.wrapWrite((n) => publisher.publish(n)) },
        logger: serviceLogger('notifier'),
        clock,
      },
      { leaseMs: scaled(QUEUES.notifier.functionTimeoutSeconds * 2), timeoutEarlyInMillis: 0 },
    );

    if (options.slackWebhookUrl && slackForwarder) {
      const forwarder = slackForwarder(
        {
          secrets: new EnvSecretReader({ SLACK_WEBHOOK_URL: options.slackWebhookUrl }),
          webhookParameter: 'SLACK_WEBHOOK_URL',
          logger: serviceLogger('slack-forwarder'),
        },
        { timeoutEarlyInMillis: 0 },
      );
      this.topic.subscribeLambda(forwarder, 'covid-etl-local-slack-forwarder');
    }

    const mapping = (key: QueueKey, handler: SqsLambdaHandler) =>
      new EventSourceMapping({
        queue: this.queues[key].queue,
        handler,
        settings: QUEUES[key],
        functionName: `covid-etl-${LOCAL_ENVIRONMENT}-${key}`,
        reportBatchItemFailures: true,
      });
    this.mappings = [
      mapping('transformer', transformerFaults.wrapHandler(transformer)),
      mapping('loader', loaderFaults.wrapHandler(loader)),
      mapping('notifier', notifierFaults.wrapHandler(notifier, { recordLevel: true })),
    ];
    this.watchdogDeps = {
      environment: LOCAL_ENVIRONMENT,
      ledger: this.ledger,
      finalizer,
      clock,
      logger: serviceLogger('watchdog'),
      stallAfterMs: 0,
    };
  }

  /** Starts the local stack in `options.dir` (creating tables and queues on first use). */
  static async open(options: LocalPipelineOptions): Promise<LocalPipeline> {
    mkdirSync(options.dir, { recursive: true });
    const logFile = options.logFile ?? path.join(options.dir, 'logs', 'pipeline.log');
    mkdirSync(path.dirname(logFile), { recursive: true });
    const logDestination = pino.destination({ dest: logFile, append: true, mkdir: true, sync: true });
    const logger = createLogger({ service: 'local-stack', destination: logDestination });
    let dynamo: LocalDynamo | undefined;
    let endpoint = options.dynamoEndpoint;
    if (!endpoint) {
      dynamo = await startLocalDynamo({
        dir: path.join(options.dir, 'dynamodb'),
        ...(options.dbMaxOpenFiles === undefined ? {} : { maxOpenFiles: options.dbMaxOpenFiles }),
      });
      endpoint = dynamo.endpoint;
    }
    try {
      const client = localDynamoClient(endpoint, dynamo?.clientConfig);
      await ensureTables(client, [
        dataTableDefinition('covid-etl-local-data'),
        ledgerTableDefinition('covid-etl-local-ledger'),
      ]);
    } catch (error) {
      await dynamo?.close();
      throw error;
    }
    // The Slack forwarder is loaded only when a webhook is configured.
    const slackForwarder = options.slackWebhookUrl
      ? (await import('@covid-etl/slack-forwarder')).createHandler
      : undefined;
    return new LocalPipeline({ ...options, logFile }, dynamo, endpoint, logger, logDestination, slackForwarder);
  }

  /**
   * Runs one pipeline run to its end: invokes the fetcher, then lets every queue drain (with
   * redeliveries and DLQ redrive as in AWS). A run left RUNNING once the queues are drained has
   * chunks parked in a DLQ: it is reported at once as INCOMPLETE by the stalled-run check, whose
   * failure notification is then delivered too.
   */
  async run(input: FetcherInput, onProgress?: (progress: DrainProgress) => void): Promise<RunItem> {
    const result = await this.invokeFetcher(input);
    await this.settle(onProgress);
    const run = await this.ledger.getRun(result.runId);
    if (!run) throw new Error(`Run ${result.runId} is missing from the ledger`);
    return run;
  }

  /**
   * Drains every queue, then reports any run left unfinished (its chunks are in a DLQ) and
   * drains again so its notification goes out.
   */
  async settle(onProgress?: (progress: DrainProgress) => void): Promise<void> {
    // A county backfill drains for hours on a small machine: the bound is 10 minutes without any
    // progress (a hanging handler), not 10 minutes in all.
    await drain(this.mappings, {
      timeoutMs: 24 * 60 * 60_000,
      stallTimeoutMs: 10 * 60_000,
      onProgress,
      progressIntervalMs: 500,
      idleMs: SETTLED_AFTER_MS,
    });
    const { reported, publishing } = await checkStalledRuns(this.watchdogDeps, {
      describe: (run, chunks) => this.parkedReason(run, chunks),
    });
    if (reported.length > 0) await drain(this.mappings, { timeoutMs: 60_000, idleMs: SETTLED_AFTER_MS });
    await this.republishUnpublished(publishing);
  }

  /**
   * The watchdog's retry of outcome events whose PutEvents failed, at once rather than in a few
   * minutes: waits out each lease (scaled, under a second) and publishes again, up to ten times.
   * `waiting`: the events the last check left unpublished, with the leases it read.
   */
  private async republishUnpublished(waiting: StalledRunsReport['publishing']): Promise<void> {
    const clock = this.options.clock ?? systemClock;
    for (let round = 0; round < 10 && waiting.length > 0; round += 1) {
      // A lease already over was set again by a publish that failed again: read the new one.
      let leases = waiting.map((run) => run.leaseUntil);
      if (leases.some((lease) => lease < clock.now().getTime())) {
        leases = (await this.ledger.listRuns(50)).flatMap((run) =>
          run.event?.state === 'PUBLISHING' ? [run.event.leaseUntil] : [],
        );
      }
      const until = Math.max(0, ...leases);
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(5000, Math.max(0, until - clock.now().getTime()) + 5)),
      );
      const check = await checkStalledRuns(this.watchdogDeps);
      if (check.republished.length > 0) await drain(this.mappings, { timeoutMs: 60_000, idleMs: SETTLED_AFTER_MS });
      waiting = check.publishing;
    }
  }

  /** "10 of 10 chunk(s) parked in a dead-letter queue: 2020-01 to 2020-10 (10 months) in …-loader-dlq (…)". */
  private parkedReason(run: RunItem, chunks: ChunkItem[]): string {
    if (run.dispatch !== 'SENT') return fetcherStoppedReason(run.runId, LOCAL_ENVIRONMENT);
    const location = new Map<string, { dlq: string; key: QueueKey }>();
    for (const key of Object.keys(this.queues) as QueueKey[]) {
      const { deadLetterQueue } = this.queues[key];
      for (const message of deadLetterQueue.scan()) {
        const body = safeJson(message.body) as { runId?: string; month?: string } | undefined;
        if (body?.runId === run.runId && body.month) location.set(body.month, { dlq: deadLetterQueue.name, key });
      }
    }
    const pending = chunks.filter((chunk) => chunk.stage !== 'LOADED');
    const listed = describePendingChunks(
      pending.map((chunk) => ({
        month: chunk.month,
        where: location.get(chunk.month)?.dlq ?? 'no queue (lost?)',
        lastError: chunk.lastError?.message,
      })),
    );
    const queues = [...new Set([...location.values()].map((l) => l.key))];
    const replay = queues.map((key) => `pnpm etl dlq replay ${key}`).join(' and ');
    return `${pending.length} of ${run.months.length} chunk(s) parked in a dead-letter queue: ${listed}.${
      replay ? ` Replay with: ${replay}` : ''
    }`;
  }

  /**
   * The queue and event-source-mapping settings the local stack really runs with, read from
   * its live queues and mappings in AWS units (before time scaling): the Terraform plan tests
   * compare them with the planned queues.
   */
  queueSettings(): Record<QueueKey, LocalQueueSettings> {
    const entries = (Object.keys(this.queues) as QueueKey[]).map((key) => {
      const { queue, deadLetterQueue } = this.queues[key];
      const mapping = this.mappings.find((m) => m.queue === queue);
      if (!mapping || !queue.redrive) throw new Error(`Queue ${queue.name} has no mapping or no redrive`);
      const settings: LocalQueueSettings = {
        name: queue.name,
        deadLetterQueueName: deadLetterQueue.name,
        visibilityTimeoutSeconds: queue.visibilityTimeoutSeconds,
        messageRetentionSeconds: queue.messageRetentionSeconds,
        dlqMessageRetentionSeconds: deadLetterQueue.messageRetentionSeconds,
        maxReceiveCount: queue.redrive.maxReceiveCount,
        batchSize: mapping.batchSize,
        maximumBatchingWindowSeconds: mapping.maximumBatchingWindowSeconds,
        maximumConcurrency: mapping.maximumConcurrency,
        reportBatchItemFailures: mapping.reportBatchItemFailures,
      };
      return [key, settings] as const;
    });
    return Object.fromEntries(entries) as Record<QueueKey, LocalQueueSettings>;
  }

  /** Handler invocations of the queue consumers so far (one per batch), as Lambda would bill them. */
  lambdaInvocations(): number {
    return this.mappings.reduce((sum, mapping) => sum + mapping.stats.invocations, 0);
  }

  /** Messages sent to each queue by this process (DLQ moves not included). */
  messagesSent(): Record<string, number> {
    return Object.fromEntries(Object.values(this.queues).map(({ queue }) => [queue.name, queue.stats.sent] as const));
  }

  /** Stops the embedded database (the state stays in `dir`). */
  async close(): Promise<void> {
    await this.dynamo?.close();
  }
}

/**
 * A client of the local database: in process when it runs here (`clientConfig`: its request
 * handler and signer), else over HTTP with the SDK's own signer.
 */
function localDynamoClient(endpoint: string, inProcess?: LocalDynamoClientConfig): DynamoDBClient {
  return meterAwsClient(
    new DynamoDBClient({
      endpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      ...inProcess,
      maxAttempts: 3,
    }),
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
