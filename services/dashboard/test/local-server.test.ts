import { type FunctionUrlServer, startFunctionUrlServer } from '@covid-etl/local-stack';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createHandler } from '../src/app.js';
import { ASSETS, FakeLedger, FakeSeries, record } from './fixtures.js';

let server: FunctionUrlServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('the local server turns HTTP requests into function URL events', () => {
  it('delivers path, decoded query (repeated values comma-joined), lowercased headers, method and cookies', async () => {
    // Prepare
    const events: APIGatewayProxyEventV2[] = [];
    server = await startFunctionUrlServer({
      port: 0,
      handler: async (event) => {
        events.push(event);
        return {
          statusCode: 201,
          headers: { 'x-answer': 'yes' },
          body: Buffer.from('héllo').toString('base64'),
          isBase64Encoded: true,
        };
      },
    });

    // Act
    const response = await fetch(`${server.url}api/series?from=2021-01-01&tag=a%20b&tag=c`, {
      headers: { 'X-Custom': 'One', cookie: 'a=1; b=2' },
    });

    // Assess
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-answer')).toBe('yes');
    expect(await response.text()).toBe('héllo');
    const event = events[0] as APIGatewayProxyEventV2;
    expect(event).toMatchObject({
      version: '2.0',
      rawPath: '/api/series',
      rawQueryString: 'from=2021-01-01&tag=a%20b&tag=c',
      queryStringParameters: { from: '2021-01-01', tag: 'a b,c' },
      cookies: ['a=1', 'b=2'],
      isBase64Encoded: false,
      requestContext: { http: { method: 'GET', path: '/api/series', sourceIp: '127.0.0.1' } },
    });
    expect(event.headers['x-custom']).toBe('One');
    expect(event.body).toBeUndefined();
  });

  it('leaves queryStringParameters out without a query, as function URLs do', async () => {
    // Prepare
    const events: APIGatewayProxyEventV2[] = [];
    server = await startFunctionUrlServer({
      port: 0,
      handler: async (event) => {
        events.push(event);
        return { statusCode: 200, body: 'ok' };
      },
    });

    // Act
    await fetch(`${server.url}api/status`, { method: 'POST', body: '{"a":1}' });

    // Assess
    expect(events[0]?.queryStringParameters).toBeUndefined();
    expect(events[0]?.requestContext.http.method).toBe('POST');
    expect(Buffer.from(events[0]?.body ?? '', 'base64').toString()).toBe('{"a":1}');
    expect(events[0]?.isBase64Encoded).toBe(true);
  });

  it('serves the dashboard handler: gzip decoded by the client, 400 with the message, 405 with Allow', async () => {
    // Prepare
    const handler = createHandler({
      series: new FakeSeries([record('2021-03-15', 10, 1, 0), record('2021-03-16', 12, 1, 0)]),
      ledger: new FakeLedger(),
      environment: 'local',
      assets: ASSETS,
    });
    server = await startFunctionUrlServer({ port: 0, handler });

    // Act
    const script = await fetch(`${server.url}assets/app.js`, { headers: { 'accept-encoding': 'gzip' } });
    const bad = await fetch(`${server.url}api/series?from=2020-13-01`);
    const post = await fetch(`${server.url}api/series`, { method: 'POST' });
    const series = await fetch(`${server.url}api/series?to=2021-03-16`);

    // Assess
    expect(script.headers.get('content-encoding')).toBe('gzip');
    expect(await script.text()).toBe(ASSETS.js);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'from: expected a date as YYYY-MM-DD, got "2020-13-01"' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(((await series.json()) as { series: unknown[] }).series).toHaveLength(2);
  });
});
