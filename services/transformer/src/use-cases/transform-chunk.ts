import type { GeoChunkMessage, GeoPartMessage, LoadChunkMessage, TransformChunkMessage } from '@covid-etl/contracts';
import { transformChunk } from '@covid-etl/core';
import {
  type ChunkLedger,
  type Logger,
  type MessageSender,
  type RunLedger,
  takeCostsForWrite,
} from '@covid-etl/platform';

export interface TransformChunkDeps {
  ledger: ChunkLedger & Pick<RunLedger, 'getRun'>;
  loaderQueue: MessageSender;
  logger: Logger;
}

/**
 * Validates and joins one month chunk with the core library, records its rejected rows on the
 * chunk's ledger item (they are reported, never retried) and sends the joined records to the
 * loader queue. Idempotent: a redelivery records the same rejections and sends the same
 * message again, which the loader counts once. A chunk of a run an operator abandoned is
 * dropped with a log line.
 */
export async function transformMonthChunk(message: TransformChunkMessage, deps: TransformChunkDeps): Promise<void> {
  const log = deps.logger.child({ runId: message.runId, month: message.month });
  if ((await deps.ledger.getRun(message.runId))?.status === 'ABANDONED') {
    log.warn('chunk of an abandoned run dropped: nothing transformed');
    return;
  }
  const { records, rejected, unmatched } = transformChunk({ nyt: message.nyt, jhu: message.jhu });
  // The chunk's costs so far, with this write and the one message sent right after it.
  const costs = takeCostsForWrite({ sqsMessagesSent: 1, sqsSendRequests: 1 });
  await deps.ledger.markChunkTransformed(message.runId, message.month, rejected, costs);
  const load: LoadChunkMessage = {
    version: 1,
    runId: message.runId,
    month: message.month,
    hash: message.hash,
    records,
    rejected,
  };
  await deps.loaderQueue.sendAll([{ id: message.month.replace('-', '_'), body: JSON.stringify(load) }]);
  log.info(
    {
      records: records.length,
      rejected: rejected.length,
      nytOnlyDates: unmatched.nytOnly.length,
      jhuOnlyDates: unmatched.jhuOnly.length,
    },
    'chunk transformed',
  );
}

/**
 * Forwards one part of a states or counties chunk to the loader queue: its rows were parsed and
 * validated by the fetcher (rejections kept with the run there), so the transformer marks the
 * part's chunk item transformed and sends the same records on. Idempotent like a month chunk.
 */
export async function forwardGeoPart(message: GeoPartMessage, deps: TransformChunkDeps): Promise<void> {
  const log = deps.logger.child({ runId: message.runId, part: message.part });
  if ((await deps.ledger.getRun(message.runId))?.status === 'ABANDONED') {
    log.warn('part of an abandoned run dropped: nothing forwarded');
    return;
  }
  const { month: _month, ...part } = message;
  const forward: GeoChunkMessage = part;
  const costs = takeCostsForWrite({ sqsMessagesSent: 1, sqsSendRequests: 1 });
  await deps.ledger.markChunkTransformed(message.runId, message.part, [], costs);
  await deps.loaderQueue.sendAll([{ id: message.part.replace(/[^A-Za-z0-9]/g, '_'), body: JSON.stringify(forward) }]);
  log.info({ records: message.records.length }, 'geo part forwarded');
}
