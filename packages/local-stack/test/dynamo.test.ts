import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ConditionalCheckFailedException,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ensureTables, type LocalDynamo, LocalDynamoError, localSigner, startLocalDynamo } from '../src/index.js';

const LEDGER: CreateTableCommandInput = {
  TableName: 'covid-etl-local-ledger',
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
    { AttributeName: 'gsi1pk', AttributeType: 'S' },
    { AttributeName: 'gsi1sk', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: 'byStartedAt',
      KeySchema: [
        { AttributeName: 'gsi1pk', KeyType: 'HASH' },
        { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
  ],
};

let dir: string;
const started: LocalDynamo[] = [];
const clients: DynamoDBClient[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'local-dynamo-'));
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  for (const dynamo of started.splice(0)) await dynamo.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(options: { dir?: string } = {}) {
  const dynamo = await startLocalDynamo(options);
  started.push(dynamo);
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  clients.push(client);
  return { dynamo, client };
}

describe('startLocalDynamo and ensureTables', () => {
  it('keeps tables and items on disk across a close and a restart on the same folder', async () => {
    // Prepare
    const first = await start({ dir });
    const created = await ensureTables(first.client, [LEDGER]);
    await first.client.send(
      new PutItemCommand({
        TableName: LEDGER.TableName,
        Item: { pk: { S: 'RUN#m-1' }, sk: { S: 'RUN' }, status: { S: 'SUCCEEDED' } },
      }),
    );
    await first.dynamo.close();

    // Act
    const second = await start({ dir });
    const operations: string[] = [];
    second.client.middlewareStack.add(
      (next, context) => (args) => {
        operations.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'recordOperations' },
    );
    const createdAgain = await ensureTables(second.client, [LEDGER]);
    const { Item } = await second.client.send(
      new GetItemCommand({ TableName: LEDGER.TableName, Key: { pk: { S: 'RUN#m-1' }, sk: { S: 'RUN' } } }),
    );

    // Assess
    expect(created).toEqual(['covid-etl-local-ledger']);
    expect(createdAgain).toEqual([]);
    // An existing ACTIVE table is described once, not again while waiting for ACTIVE.
    expect(operations).toEqual(['DescribeTableCommand', 'GetItemCommand']);
    expect(Item?.status).toEqual({ S: 'SUCCEEDED' });
    expect(second.dynamo.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('creates tables ACTIVE with their indexes ACTIVE, in memory without a folder', async () => {
    // Prepare
    const { client } = await start();

    // Act
    await ensureTables(client, [LEDGER]);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: LEDGER.TableName }));

    // Assess
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexStatus)).toEqual(['ACTIVE']);
  });

  it('refuses a second server on a folder that is already open', async () => {
    // Prepare
    await start({ dir });

    // Act
    const second = startLocalDynamo({ dir });

    // Assess
    await expect(second).rejects.toThrow(LocalDynamoError);
    await expect(startLocalDynamo({ dir })).rejects.toThrow(/already open in this process/);
  });
});

describe('clientConfig (in process: requestHandler and localSigner)', () => {
  it('answers like the HTTP endpoint, errors included, without opening a connection', async () => {
    // Prepare: a client whose endpoint cannot be reached (port 9 on 127.0.0.1: nothing listens),
    // so that only the in-process handler can answer it.
    const { dynamo, client: overHttp } = await start();
    const inProcess = new DynamoDBClient({ ...dynamo.clientConfig, endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    clients.push(inProcess);
    await ensureTables(inProcess, [LEDGER]);
    const put = (client: DynamoDBClient, sk: string) =>
      client.send(
        new PutItemCommand({
          TableName: LEDGER.TableName,
          Item: { pk: { S: 'RUN#m-1' }, sk: { S: sk }, note: { S: 'é ✓' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );

    // Act
    await put(inProcess, 'CHUNK#2020-01');
    await put(overHttp, 'CHUNK#2020-02');
    const query = new QueryCommand({
      TableName: LEDGER.TableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'RUN#m-1' } },
    });
    const [viaHandler, viaHttp] = await Promise.all([inProcess.send(query), overHttp.send(query)]);
    const conflict = await put(inProcess, 'CHUNK#2020-02').catch((error: unknown) => error);
    const missing = await inProcess
      .send(new GetItemCommand({ TableName: 'no-such-table', Key: { pk: { S: 'x' } } }))
      .catch((error: unknown) => error);

    // Assess
    expect(viaHandler.Items).toEqual(viaHttp.Items);
    expect(viaHandler.Items?.map((item) => [item.sk?.S, item.note?.S])).toEqual([
      ['CHUNK#2020-01', 'é ✓'],
      ['CHUNK#2020-02', 'é ✓'],
    ]);
    expect(conflict).toBeInstanceOf(ConditionalCheckFailedException);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
  });

  it('signs with localSigner: the headers dynalite checks, of SigV4 shape, with a signature of zeros', async () => {
    // Prepare
    const { dynamo } = await start();
    const request = { method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/', query: {}, headers: {} };

    // Act
    const signed = await localSigner.sign(request as unknown as Parameters<typeof localSigner.sign>[0]);

    // Assess
    expect(dynamo.clientConfig.signer).toBe(localSigner);
    expect(signed.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(signed.headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=local/${signed.headers['x-amz-date']?.slice(0, 8)}/local/dynamodb/aws4_request, ` +
        `SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
    );
  });
});
