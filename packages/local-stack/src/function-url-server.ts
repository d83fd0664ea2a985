import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { toFunctionUrlEvent, writeFunctionUrlResult } from './function-url.js';
import { lambdaContext } from './lambda-context.js';

export type FunctionUrlHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface FunctionUrlServer {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  readonly port: number;
  /** Stops accepting requests and closes open connections. */
  close(): Promise<void>;
}

/** Bodies above this are refused (the dashboard takes none: it answers GET only). */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Serves a function URL handler over node:http on `host` (127.0.0.1 unless told otherwise),
 * turning each request into the event a Lambda function URL would deliver and the handler's
 * result back into an HTTP response. `port` 0 picks a free one.
 */
export async function startFunctionUrlServer({
  handler,
  port,
  host = '127.0.0.1',
  functionName = 'dashboard-local',
}: {
  handler: FunctionUrlHandler;
  port: number;
  host?: string;
  functionName?: string;
}): Promise<FunctionUrlServer> {
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        response.writeHead(413, { 'content-type': 'application/json' }).end('{"error":"request body too large"}');
        return;
      }
      const event = toFunctionUrlEvent(request, Buffer.concat(chunks));
      handler(event, lambdaContext({ functionName, awsRequestId: event.requestContext.requestId }))
        .then((result) => writeFunctionUrlResult(response, result))
        .catch((error: unknown) => {
          console.error('dashboard handler failed:', error);
          if (!response.headersSent) {
            response.writeHead(500, { 'content-type': 'application/json' });
          }
          response.end('{"error":"the handler failed; see the server output"}');
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
