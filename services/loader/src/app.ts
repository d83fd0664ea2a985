import { LoaderMessage } from '@covid-etl/contracts';
import { createSqsHandler, PermanentError, type SqsHandlerOptions, sharedRunReads } from '@covid-etl/platform';
import { type LoadChunkDeps, type LoaderPoolMember, loaderPool, loadMonthChunk } from './use-cases/load-chunk.js';
import { type LoadGeoPartDeps, loadGeoPart } from './use-cases/load-geo-part.js';

/** The loader's dependencies; the geo ones are required once the fetcher sends states or counties. */
export type LoaderDeps = LoadChunkDeps & Partial<Pick<LoadGeoPartDeps, 'geoLedger' | 'geoSeries' | 'geoCatalog'>>;
export type { LoadGeoPartDeps } from './use-cases/load-geo-part.js';

/**
 * The loader's Lambda handler (SQS, partial batch failures): one month of joined records, or one
 * part of a states or counties chunk, a record; the months of one invocation read and write the
 * data table together (one Query, shared BatchWriteItem requests); the last chunk of a run
 * finishes it and puts the outcome event on the bus. The month chunks of one invocation read
 * their run once (`sharedRunReads`).
 */
export function createHandler(deps: LoaderDeps, options: SqsHandlerOptions = {}) {
  return createSqsHandler<LoaderMessage, LoaderPoolMember, LoaderDeps>({
    schema: LoaderMessage,
    stage: 'load',
    ledger: deps.ledger,
    logger: deps.logger,
    pool: (size) => loaderPool(size, deps),
    shared: () => ({ ...deps, ledger: sharedRunReads(deps.ledger) }),
    process: (message, _record, member, invocationDeps) => {
      if (!('part' in message)) return loadMonthChunk(message, invocationDeps, member);
      // A geo part pools nothing (its month chunks' pools must not wait for it) and reads its run
      // itself: the parts of a batch load a few at a time (seconds each), so a shared read could
      // be stale by the time the last one starts.
      member?.leave();
      const { geoLedger, geoSeries, geoCatalog } = deps;
      if (!geoLedger || !geoSeries || !geoCatalog) {
        throw new PermanentError('this loader has no geo ledger, store or catalogue for states and counties');
      }
      return loadGeoPart(message, { ...deps, geoLedger, geoSeries, geoCatalog });
    },
    ...options,
  });
}
