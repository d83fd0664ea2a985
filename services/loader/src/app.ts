import { LoaderMessage } from '@covid-etl/contracts';
import { createSqsHandler, PermanentError, type SqsHandlerOptions } from '@covid-etl/platform';
import { type LoadChunkDeps, type LoaderPoolMember, loaderPool, loadMonthChunk } from './use-cases/load-chunk.js';
import { type LoadGeoPartDeps, loadGeoPart } from './use-cases/load-geo-part.js';

/** The loader's dependencies; the geo ones are required once the fetcher sends states or counties. */
export type LoaderDeps = LoadChunkDeps & Partial<Pick<LoadGeoPartDeps, 'geoLedger' | 'geoSeries' | 'geoCatalog'>>;
export type { LoadGeoPartDeps } from './use-cases/load-geo-part.js';

/**
 * The loader's Lambda handler (SQS, partial batch failures): one month of joined records, or one
 * part of a states or counties chunk, a record; the months of one invocation read and write the
 * data table together (one Query, shared BatchWriteItem requests); the last chunk of a run
 * finishes it and puts the outcome event on the bus.
 */
export function createHandler(deps: LoaderDeps, options: SqsHandlerOptions = {}) {
  return createSqsHandler<LoaderMessage, LoaderPoolMember>({
    schema: LoaderMessage,
    stage: 'load',
    ledger: deps.ledger,
    logger: deps.logger,
    pool: (size) => loaderPool(size, deps),
    process: (message, _record, member) => {
      if (!('part' in message)) return loadMonthChunk(message, deps, member);
      const { geoLedger, geoSeries, geoCatalog } = deps;
      if (!geoLedger || !geoSeries || !geoCatalog) {
        throw new PermanentError('this loader has no geo ledger, store or catalogue for states and counties');
      }
      return loadGeoPart(message, { ...deps, geoLedger, geoSeries, geoCatalog });
    },
    ...options,
  });
}
