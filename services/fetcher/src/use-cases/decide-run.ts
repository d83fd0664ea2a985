import { type FetcherResult, GeoChunkMessage, type RunDecision, TransformChunkMessage } from '@covid-etl/contracts';
import { PermanentError } from '@covid-etl/platform';
import { dispatchSnapshot } from './dispatch.js';
import type { GeoPartMessage } from './geo-sources.js';
import type { StartRunDeps } from './start-run.js';

/** A decision that cannot apply: unknown run, not HELD, or already decided the other way. */
export class RunDecisionError extends PermanentError {
  constructor(message: string) {
    super(message);
    this.name = 'RunDecisionError';
  }
}

/**
 * Carries out an operator's decision on a HELD run.
 *
 * - approve: moves the run HELD → RUNNING and loads exactly the snapshot it holds (its stored
 *   month chunks and states' and counties' parts; none when the file only lost geographies), as
 *   if the gates had passed: months equal to
 *   the last successful load are skipped and counted unchanged, the others and every held part
 *   go to the transformer, and the run finishes and
 *   is announced like any other. Idempotent: approving an approved run joins it (and finishes
 *   an interrupted dispatch).
 * - reject: moves the run HELD → REJECTED; nothing is written, no baseline changes.
 *   Idempotent too.
 */
export async function decideRun(decision: RunDecision, deps: StartRunDeps): Promise<FetcherResult> {
  const { runId, action } = decision;
  const log = deps.logger.child({ runId });
  const at = deps.clock.now().toISOString();
  const by = decision.by ? { by: decision.by } : {};
  let run = await deps.ledger.getRun(runId);
  if (!run) throw new RunDecisionError(`No run ${runId} in the ${deps.environment} ledger (see etl runs)`);

  if (run.status === 'HELD') {
    if (action === 'reject') {
      const summary = run.summary ? { ...run.summary, status: 'REJECTED' as const, finishedAt: at } : undefined;
      if (summary && (await deps.held.reject(runId, { at, ...by }, summary))) {
        log.info({ by: decision.by }, 'held run rejected: nothing loaded');
        return { runId, joined: false, status: 'REJECTED', chunks: 0 };
      }
    } else if (await deps.held.approve(runId, { at, ...by }, run.summary?.gates ?? [])) {
      log.info({ by: decision.by }, 'held run approved: loading its snapshot');
    }
    run = (await deps.ledger.getRun(runId)) ?? run;
  }

  if (run.decision?.action !== action) {
    const other = run.decision ? `it was ${run.decision.action === 'approve' ? 'approved' : 'rejected'}` : '';
    throw new RunDecisionError(
      `Run ${runId} is ${run.status}${other ? ` (${other})` : ''}: only a HELD run can be ${
        action === 'approve' ? 'approved' : 'rejected'
      }`,
    );
  }
  if (action === 'reject' || run.status !== 'RUNNING' || run.dispatch === 'SENT') {
    return { runId, joined: true, status: run.status, chunks: run.months.length };
  }

  const held = await deps.held.getChunks(runId);
  // A snapshot is held empty when its only trips are geographies missing from a file that
  // changes no day (every level planned no part): approving it loads nothing and keeps the values.
  const plannedParts = Object.values(run.geo ?? {}).reduce((sum, plan) => sum + (plan?.parts ?? 0), 0);
  if (held.length === 0 && (run.geo === undefined || plannedParts > 0)) {
    throw new RunDecisionError(`Run ${runId} holds no snapshot to load`);
  }
  const chunks = [];
  const parts: GeoPartMessage[] = [];
  for (const chunk of held) {
    const body = JSON.parse(chunk.body) as { part?: unknown };
    if (body.part === undefined) {
      const message = TransformChunkMessage.parse(body);
      chunks.push({ month: message.month, hash: message.hash, nyt: message.nyt, jhu: message.jhu });
    } else {
      // A part of the states or counties: sent as held (its plan and rejections were recorded when held).
      const message = GeoChunkMessage.parse(body);
      parts.push({ key: message.part, hash: message.hash, body: chunk.body });
    }
  }
  const dispatched = await dispatchSnapshot(runId, chunks, run.sources, deps, log, [{ parts, messages: () => parts }]);
  return { runId, joined: false, status: dispatched.status, chunks: dispatched.chunks };
}
