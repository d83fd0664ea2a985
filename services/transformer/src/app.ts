import { TransformerMessage } from '@covid-etl/contracts';
import { createSqsHandler, type SqsHandlerOptions, sharedRunReads } from '@covid-etl/platform';
import { forwardGeoPart, type TransformChunkDeps, transformMonthChunk } from './use-cases/transform-chunk.js';

export type { TransformChunkDeps as TransformerDeps } from './use-cases/transform-chunk.js';

/**
 * The transformer's Lambda handler (SQS, partial batch failures): one month chunk of the nation,
 * or one part of a states or counties chunk (validated by the fetcher: forwarded), a record.
 * A failing record is recorded on its chunk in the ledger and reported as a batch item
 * failure, so only it is retried. The records of one invocation read their run once
 * (`sharedRunReads`).
 */
export function createHandler(deps: TransformChunkDeps, options: SqsHandlerOptions = {}) {
  return createSqsHandler({
    schema: TransformerMessage,
    stage: 'transform',
    ledger: deps.ledger,
    logger: deps.logger,
    shared: () => ({ ...deps, ledger: sharedRunReads(deps.ledger) }),
    process: (message, _record, _member, invocationDeps) =>
      'part' in message ? forwardGeoPart(message, invocationDeps) : transformMonthChunk(message, invocationDeps),
    ...options,
  });
}
