/** How much of a value a message quotes. */
export const QUOTE_LIMIT = 60;

/** A value in double quotes for a message, cut to a readable length. */
export function quote(value: string): string {
  return `"${truncate(value, QUOTE_LIMIT)}"`;
}

/** `value` cut to `limit` characters, with an ellipsis when cut. */
export function truncate(value: string, limit: number): string {
  return value.length > limit ? `${value.slice(0, limit)}…` : value;
}
