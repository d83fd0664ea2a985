import { StructuralError } from '../src/index.js';

/** Every item of an async iterable. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** The StructuralError that draining `items` throws (fails when it throws none or another error). */
export async function structuralErrorOf(items: AsyncIterable<unknown>): Promise<StructuralError> {
  try {
    await collect(items);
  } catch (error) {
    if (error instanceof StructuralError) return error;
    throw error;
  }
  throw new Error('expected a StructuralError, but the source was read without one');
}
