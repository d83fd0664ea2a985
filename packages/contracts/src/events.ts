import './zod-locale.js';
import * as z from 'zod/mini';
import { RunSummary } from './run.js';

/** `source` of every event the pipeline puts on its EventBridge bus. */
export const EVENT_SOURCE = 'covid-etl.pipeline';

/** `detail-type` of the domain events. */
export const EventDetailType = {
  RunCompleted: 'EtlRunCompleted',
  RunFailed: 'EtlRunFailed',
} as const;
export type EventDetailType = (typeof EventDetailType)[keyof typeof EventDetailType];

export const EVENT_VERSION = 1;

/** A run finished with every chunk loaded (status SUCCEEDED or PARTIAL). */
export const EtlRunCompleted = z.object({
  version: z.literal(EVENT_VERSION),
  summary: RunSummary.check(
    z.refine((s) => s.status === 'SUCCEEDED' || s.status === 'PARTIAL', {
      message: 'a completed run is SUCCEEDED or PARTIAL',
    }),
  ),
});
export type EtlRunCompleted = z.infer<typeof EtlRunCompleted>;

/** A run failed (unusable source), stalled, or left chunks in a dead-letter queue. */
export const EtlRunFailed = z.object({
  version: z.literal(EVENT_VERSION),
  reason: z.string().check(z.minLength(1)),
  summary: RunSummary,
});
export type EtlRunFailed = z.infer<typeof EtlRunFailed>;

/** The envelope as EventBridge delivers it to a rule target (the notifier queue). */
export const DomainEventEnvelope = z.discriminatedUnion('detail-type', [
  z.object({
    'detail-type': z.literal(EventDetailType.RunCompleted),
    source: z.literal(EVENT_SOURCE),
    id: z.optional(z.string()),
    time: z.optional(z.string()),
    detail: EtlRunCompleted,
  }),
  z.object({
    'detail-type': z.literal(EventDetailType.RunFailed),
    source: z.literal(EVENT_SOURCE),
    id: z.optional(z.string()),
    time: z.optional(z.string()),
    detail: EtlRunFailed,
  }),
]);
export type DomainEventEnvelope = z.infer<typeof DomainEventEnvelope>;

/** The event pattern of the rule that routes run outcomes to the notifier queue. */
export const RUN_OUTCOME_EVENT_PATTERN = {
  source: [EVENT_SOURCE],
  'detail-type': [EventDetailType.RunCompleted, EventDetailType.RunFailed],
} as const;
