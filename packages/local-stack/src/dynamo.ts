/// <reference path="./dynalite.d.ts" />
import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  type DynamoDBClientConfig,
  ResourceInUseException,
  ResourceNotFoundException,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { sleep } from './clock.js';
import { createTunedDynalite } from './dynalite-store.js';
import { LocalDynamoError } from './errors.js';

export interface LocalDynamoOptions {
  /** LevelDB folder: the data survives `close()` and a later start on the same folder. In memory when absent. */
  readonly dir?: string;
  /** Port on 127.0.0.1; default a free one. */
  readonly port?: number;
  /** How long tables stay CREATING / UPDATING / DELETING; default 0 (dynalite's own default is 500). */
  readonly tableStateChangeMs?: number;
  /**
   * Batch LevelDB writes and read synchronously under dynalite (`tuneStore`: same items, same
   * answers, several times fewer native calls per item); default true. False: dynalite as shipped.
   */
  readonly tuned?: boolean;
  /** LevelDB's table cache size (`StorageOptions.maxOpenFiles`); default LevelDB's 1000. */
  readonly maxOpenFiles?: number;
}

export interface LocalDynamo {
  /** E.g. `http://127.0.0.1:43125`, for `new DynamoDBClient({ endpoint })`. */
  readonly endpoint: string;
  readonly port: number;
  /**
   * An SDK `requestHandler` that hands each request to the database in this process, with no
   * socket and no HTTP parsing (`new DynamoDBClient({ endpoint, requestHandler })`): the same
   * requests, checks and answers as through `endpoint`, without a socket or HTTP on either side.
   */
  readonly requestHandler: InProcessHandler;
  /**
   * Everything a client of the database in this process needs:
   * `new DynamoDBClient({ ...clientConfig, maxAttempts })`. The `endpoint`, the in-process
   * `requestHandler`, local credentials, and `localSigner` (see there) instead of SigV4.
   */
  readonly clientConfig: LocalDynamoClientConfig;
  /** Stops the server and closes the database (flushing it to `dir`). Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts dynalite (a DynamoDB implementation on LevelDB) in this process, listening on
 * 127.0.0.1. With `dir` the tables are stored there and survive `close()`. One server at a
 * time may use a folder: a second start on it (this process or another live one) throws
 * `LocalDynamoError` (dynalite itself would crash the process on LevelDB's lock). dynalite has
 * no transactions (TransactWriteItems) and no TTL expiry.
 */
export async function startLocalDynamo(options: LocalDynamoOptions = {}): Promise<LocalDynamo> {
  const stateMs = options.tableStateChangeMs ?? 0;
  const release = options.dir ? acquireFolder(options.dir) : () => undefined;
  const { server } = createTunedDynalite(
    {
      ...(options.dir ? { path: options.dir } : {}),
      createTableMs: stateMs,
      deleteTableMs: stateMs,
      updateTableMs: stateMs,
    },
    options.tuned ?? true,
    options.maxOpenFiles === undefined ? {} : { maxOpenFiles: options.maxOpenFiles },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await closeServer(server).catch(() => undefined);
    release();
    throw new LocalDynamoError(
      `Cannot start the embedded DynamoDB on 127.0.0.1:${options.port ?? 0}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  const endpoint = `http://127.0.0.1:${port}`;
  const requestHandler = inProcessHandler(server);
  return {
    endpoint,
    port,
    requestHandler,
    clientConfig: {
      endpoint,
      requestHandler,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      signer: localSigner,
    },
    close: () => {
      closing ??= closeServer(server).finally(release);
      return closing;
    },
  };
}

/** The client settings of `LocalDynamo.clientConfig`. */
export type LocalDynamoClientConfig = Required<
  Pick<DynamoDBClientConfig, 'endpoint' | 'requestHandler' | 'region' | 'credentials' | 'signer'>
>;

type LocalSigner = Extract<NonNullable<DynamoDBClientConfig['signer']>, { sign: unknown }>;

/**
 * A request signer for the embedded DynamoDB: it stamps each request with `X-Amz-Date` and an
 * Authorization header of SigV4's shape whose signature is zeros. dynalite checks that the
 * header is there and well formed, never the signature (it has no secret to check it with), so
 * the answers are the same; computing real signatures (a key derivation and two HMAC-SHA256
 * over a canonical request, per request) was ~4% of a national run's CPU on the local stack.
 * For the database in this process only: anything else (AWS, DynamoDB Local over HTTP) gets the
 * SDK's own signer.
 */
export const localSigner: LocalSigner = {
  sign: async (request) => {
    const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    request.headers['x-amz-date'] = amzDate;
    request.headers.authorization =
      `AWS4-HMAC-SHA256 Credential=local/${amzDate.slice(0, 8)}/local/dynamodb/aws4_request, ` +
      `SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;
    return request;
  },
};

/** The SDK's request handler shape (`@smithy/types` `HttpHandler`), as the client config takes it. */
export type InProcessHandler = Extract<NonNullable<DynamoDBClientConfig['requestHandler']>, { handle: unknown }>;

interface SdkHttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Record<string, string | string[] | null>;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array;
}

/**
 * Calls the server's request listener (dynalite's HTTP handler) with an in-memory request and
 * response. dynalite reads only the method, URL, headers and body events of the request, and
 * sets the status, headers and body of the response (`sendData`), so nothing else is faked.
 */
function inProcessHandler(server: Server): InProcessHandler {
  const listener = server.listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void;
  const handle = (request: SdkHttpRequest) =>
    new Promise<{ response: { statusCode: number; headers: Record<string, string>; body: Uint8Array } }>(
      (resolve, reject) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
        const query = new URLSearchParams();
        for (const [name, value] of Object.entries(request.query ?? {})) {
          for (const v of Array.isArray(value) ? value : [value]) query.append(name, v ?? '');
        }
        const search = query.size > 0 ? `?${query}` : '';
        const req = Object.assign(new EventEmitter(), {
          method: request.method,
          url: `${request.path}${search}`,
          headers,
        });
        const responseHeaders: Record<string, string> = {};
        const res = {
          statusCode: 200,
          setHeader(name: string, value: string | number) {
            responseHeaders[name.toLowerCase()] = String(value);
          },
          end(body?: string | Uint8Array) {
            resolve({
              response: {
                statusCode: res.statusCode,
                headers: responseHeaders,
                body: typeof body === 'string' ? Buffer.from(body) : (body ?? new Uint8Array()),
              },
            });
          },
        };
        try {
          listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
          const body = request.body;
          // A view, not `Buffer.from(body)`: the SDK's JSON body is a Uint8Array whose `valueOf()`
          // (which `Buffer.from` calls) converts it to a string with a deprecation warning.
          const bytes =
            typeof body === 'string'
              ? Buffer.from(body)
              : body && Buffer.from(body.buffer, body.byteOffset, body.byteLength);
          if (bytes && bytes.length > 0) req.emit('data', bytes);
          req.emit('end');
        } catch (error) {
          reject(error);
        }
      },
    );
  return {
    handle,
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  } as unknown as InProcessHandler;
}

const openFolders = new Set<string>();

/** Marks `dir` as used by this process (`<dir>/local-stack.pid`); returns the release function. */
function acquireFolder(dir: string): () => void {
  const folder = path.resolve(dir);
  if (openFolders.has(folder)) {
    throw new LocalDynamoError(
      `The embedded DynamoDB folder ${folder} is already open in this process: close it first`,
    );
  }
  mkdirSync(folder, { recursive: true });
  const pidFile = path.join(folder, 'local-stack.pid');
  try {
    writeFileSync(pidFile, String(process.pid), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = Number(readFileSync(pidFile, 'utf8'));
    if (owner !== process.pid && isAlive(owner)) {
      throw new LocalDynamoError(
        `The embedded DynamoDB folder ${folder} is in use by process ${owner}: wait for it to finish or stop it`,
      );
    }
    writeFileSync(pidFile, String(process.pid));
  }
  openFolders.add(folder);
  return () => {
    if (!openFolders.delete(folder)) return;
    rmSync(pidFile, { force: true });
  };
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) =>
      error ? reject(new LocalDynamoError('Cannot close the embedded DynamoDB', { cause: error })) : resolve(),
    );
    // SDK clients keep connections alive: close the idle ones so `close` does not wait for them.
    server.closeIdleConnections();
  });
}

export interface EnsureTablesOptions {
  /** Give up waiting for ACTIVE after this many milliseconds; default 10000. */
  readonly timeoutMs?: number;
}

/**
 * Creates every table of `definitions` that does not exist yet and waits until all of them
 * (and their global secondary indexes) are ACTIVE. Idempotent: an existing table is left as
 * it is (its schema is not compared). Returns the names of the tables it created.
 */
export async function ensureTables(
  client: DynamoDBClient,
  definitions: readonly CreateTableCommandInput[],
  options: EnsureTablesOptions = {},
): Promise<string[]> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const created: string[] = [];
  // A table found ACTIVE is not described again below (one DescribeTable per table at an open).
  const ready = new Set<string>();
  for (const definition of definitions) {
    const name = definition.TableName;
    if (!name) throw new LocalDynamoError('A table definition has no TableName');
    const existing = await describe(client, name);
    if (existing && isActive(existing)) ready.add(name);
    if (existing) continue;
    try {
      await client.send(new CreateTableCommand(definition));
      created.push(name);
    } catch (error) {
      // Someone else created it in the meantime: fine.
      if (!(error instanceof ResourceInUseException)) {
        throw new LocalDynamoError(`Cannot create table ${name}: ${(error as Error).message}`, { cause: error });
      }
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const definition of definitions) {
    const name = definition.TableName as string;
    if (ready.has(name)) continue;
    for (;;) {
      const table = await describe(client, name);
      if (table && isActive(table)) break;
      if (Date.now() > deadline) {
        throw new LocalDynamoError(
          `Table ${name} is not ACTIVE after ${timeoutMs} ms (status ${table?.TableStatus ?? 'missing'})`,
        );
      }
      await sleep(20);
    }
  }
  return created;
}

async function describe(client: DynamoDBClient, name: string): Promise<TableDescription | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    return Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw new LocalDynamoError(`Cannot describe table ${name}: ${(error as Error).message}`, { cause: error });
  }
}

function isActive(table: TableDescription): boolean {
  return (
    table.TableStatus === 'ACTIVE' &&
    (table.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE')
  );
}
