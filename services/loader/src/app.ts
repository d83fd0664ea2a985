import { LoadChunkMessage } from '@covid-etl/contracts';
import { createSqsHandler, type SqsHandlerOptions } from '@covid-etl/platform';
import { type LoadChunkDeps, type LoaderPoolMember, loaderPool, loadMonthChunk } from './use-cases/load-chunk.js';

export type { LoadChunkDeps as LoaderDeps } from './use-cases/load-chunk.js';

/**
 * The loader's Lambda handler (SQS, partial batch failures): one month of joined records a
 * record; the chunks of one invocation read and write the data table together (one Query,
 * shared BatchWriteItem requests); the last chunk of a run finishes it and puts the outcome
 * event on the bus.
 */
export function createHandler(deps: LoadChunkDeps, options: SqsHandlerOptions = {}) {
  return createSqsHandler<LoadChunkMessage, LoaderPoolMember>({
    schema: LoadChunkMessage,
    stage: 'load',
    ledger: deps.ledger,
    logger: deps.logger,
    pool: (size) => loaderPool(size, deps),
    process: (message, _record, member) => loadMonthChunk(message, deps, member),
    ...options,
  });
}
