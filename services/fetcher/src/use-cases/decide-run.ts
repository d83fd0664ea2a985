import {
  type FetcherResult,
  GeoChunkMessage,
  levelOfChunkKey,
  type RunDecision,
  TransformChunkMessage,
} from '@covid-etl/contracts';
import { type HeldRunRepository, type OutgoingMessage, PermanentError } from '@covid-etl/platform';
import {
  chunkMessages,
  type DispatchSnapshot,
  dispatchSnapshot,
  type MonthKey,
  monthMessageId,
  partMessageId,
} from './dispatch.js';
import type { GeoPartKey } from './geo-sources.js';
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
 *   is announced like any other. The plan is recorded from the held keys and hashes alone (no
 *   body read); the bodies are then read a page at a time and sent as they are read, so a
 *   county backfill's ~420 MB of parts never sits in memory. Idempotent: approving an approved
 *   run joins it (and finishes an interrupted dispatch, sending the same messages again).
 * - reject: moves the run HELD → REJECTED; nothing is written, no baseline changes.
 *   Idempotent too.
 *
 * The held chunks are deleted once read no more: after a reject, and after an approve has sent
 * them all (an approve interrupted before that reads them again). The trips stay (`etl trips`).
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
        await deps.held.deleteChunks(runId);
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
    // Rejected, or approved and all sent: the held chunks are read no more (a decision that
    // stopped before deleting them leaves them; this one finishes the job).
    if (action === 'reject' || run.dispatch === 'SENT') await deps.held.deleteChunks(runId);
    return { runId, joined: true, status: run.status, chunks: run.months.length };
  }

  const snapshot = await heldSnapshot(runId, deps.held);
  // A snapshot is held empty when its only trips are geographies missing from a file that
  // changes no day (every level planned no part): approving it loads nothing and keeps the values.
  const plannedParts = Object.values(run.geo ?? {}).reduce((sum, plan) => sum + (plan?.parts ?? 0), 0);
  const heldChunks = snapshot.months.length + snapshot.parts.length;
  if (heldChunks === 0 && (run.geo === undefined || plannedParts > 0)) {
    throw new RunDecisionError(`Run ${runId} holds no snapshot to load`);
  }
  const dispatched = await dispatchSnapshot(runId, snapshot, run.sources, deps, log);
  // Every chunk is sent (dispatch SENT): the snapshot has done its work.
  await deps.held.deleteChunks(runId);
  return { runId, joined: false, status: dispatched.status, chunks: dispatched.chunks };
}

/**
 * The snapshot a HELD run keeps, as a dispatch reads it: the keys and hashes now (no body read;
 * a chunk held before hashes were kept beside the bodies has its own body read for its hash),
 * the messages later, read a page of bodies at a time in key order (the nation's months, then
 * the counties' and states' parts: the order `etl approve` has always sent them in).
 */
async function heldSnapshot(runId: string, held: HeldRunRepository): Promise<DispatchSnapshot> {
  const months: MonthKey[] = [];
  const parts: GeoPartKey[] = [];
  for (const key of await held.getChunkKeys(runId)) {
    const hash = key.hash ?? (await heldHashOf(runId, key.month, held));
    if (levelOfChunkKey(key.month) === 'nation') months.push({ month: key.month, hash });
    else parts.push({ key: key.month, hash });
  }
  async function* messages(send: ReadonlySet<string>): AsyncGenerator<OutgoingMessage> {
    // What is read must be what the plan holds, in its order (held items are never rewritten).
    const expected = [
      ...months.filter((month) => send.has(month.month)),
      ...parts.map((p) => ({ month: p.key, hash: p.hash })),
    ];
    let next = 0;
    for await (const page of held.chunkPages(runId)) {
      for (const chunk of page) {
        const message = parseHeld(chunk.body);
        if (message.kind === 'month' && !send.has(message.key)) continue;
        const want = expected[next++];
        if (message.key !== chunk.month || want?.month !== message.key || want.hash !== message.hash) {
          throw new RunDecisionError(`Run ${runId}: held chunk ${chunk.month} differs from its dispatch plan`);
        }
        if (message.kind === 'month') {
          const [month] = chunkMessages(runId, [message.chunk]);
          yield { id: monthMessageId(message.key), body: (month as { body: string }).body };
        } else {
          // A part of the states or counties: sent as held (its plan and rejections were recorded when held).
          yield { id: partMessageId(message.key), body: chunk.body };
        }
      }
    }
    if (next !== expected.length)
      throw new RunDecisionError(`Run ${runId}: ${expected.length - next} held chunk(s) of its plan are missing`);
  }
  return { months, parts, messages };
}

/** The hash of a chunk held before hashes were kept beside the bodies: its body's own. */
async function heldHashOf(runId: string, key: string, held: HeldRunRepository): Promise<string> {
  const chunk = await held.getChunk(runId, key);
  if (!chunk) throw new RunDecisionError(`Run ${runId}: held chunk ${key} vanished while being read`);
  return parseHeld(chunk.body).hash;
}

type HeldMessage =
  | { kind: 'month'; key: string; hash: string; chunk: TransformChunkMessage }
  | { kind: 'part'; key: string; hash: string };

/** A held body, validated: a month of the nation (a `TransformChunkMessage`) or a part (a `GeoChunkMessage`). */
function parseHeld(body: string): HeldMessage {
  const json = JSON.parse(body) as { part?: unknown };
  if (json.part === undefined) {
    const chunk = TransformChunkMessage.parse(json);
    return { kind: 'month', key: chunk.month, hash: chunk.hash, chunk };
  }
  const part = GeoChunkMessage.parse(json);
  return { kind: 'part', key: part.part, hash: part.hash };
}
