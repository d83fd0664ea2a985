// The contracts' schemas configure zod's English messages (`zod-locale.ts`): this import brings it.
import { isRealDate } from '@covid-etl/contracts';
import * as z from 'zod/mini';

/** A query that cannot be answered: the message goes back to the caller as `{ error }` with 400. */
export class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

/** A geography or path with nothing stored: the message goes back as `{ error }` with 404. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

const DATE_SHAPE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

const QueryDate = z
  .string()
  .check(
    z.regex(DATE_SHAPE, 'expected a date as YYYY-MM-DD'),
    z.refine(isRealDate, 'expected a date that exists in the calendar'),
  );

/** `?geo=<id>&from=YYYY-MM-DD&to=YYYY-MM-DD`, all optional (dates inclusive); nothing else. */
export const SeriesQuery = z
  .strictObject({ geo: z.optional(z.string()), from: z.optional(QueryDate), to: z.optional(QueryDate) })
  .check(
    z.refine((query) => !query.from || !query.to || query.from <= query.to, {
      error: (issue) => {
        const { from, to } = issue.input as { from: string; to: string };
        return `from (${from}) is after to (${to}): expected from <= to`;
      },
    }),
  );
export type SeriesQuery = z.infer<typeof SeriesQuery>;

/** `?date=YYYY-MM-DD`, required. */
export const HistoryQuery = z.strictObject({ date: QueryDate });

/** `?state=<state FIPS>`, required. */
export const CountiesQuery = z.strictObject({ state: z.string() });

/** No parameters at all. */
export const NoQuery = z.strictObject({});

type Params = Record<string, string | undefined>;

/**
 * Parses query parameters against an object schema. The first problem becomes one sentence
 * naming the parameter and quoting the value: `from: expected a date as YYYY-MM-DD, got
 * "2020-13-01"`. A repeated parameter arrives comma-joined (as Lambda function URLs deliver it)
 * and fails as a bad value.
 */
export function parseQuery<Shape extends z.core.$ZodShape>(
  schema: z.ZodMiniObject<Shape>,
  params: Params | undefined,
): z.infer<z.ZodMiniObject<Shape>> {
  const input: Params = Object.fromEntries(Object.entries(params ?? {}).filter(([, value]) => value !== undefined));
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const allowed = Object.keys(schema.shape);
    const names = issue.keys.map((key) => JSON.stringify(key)).join(', ');
    const list = allowed.length > 1 ? `${allowed.slice(0, -1).join(', ')} and ${allowed.at(-1)}` : allowed[0];
    const expected = list ? `expected only ${list}` : 'this path takes none';
    throw new BadRequestError(`unknown query parameter ${names}: ${expected}`);
  }
  const name = issue?.path[0];
  if (typeof name !== 'string') throw new BadRequestError(issue?.message ?? 'invalid query');
  throw new BadRequestError(`${name}: ${issue?.message}, got ${JSON.stringify(input[name] ?? '')}`);
}
