import { InvalidEventPatternError } from './errors.js';

/** An EventBridge event pattern: field names mapped to arrays of matchers or nested patterns. */
export type EventPattern = { readonly [field: string]: unknown };

type Leaf = string | number | boolean | null;
const NUMERIC_OPERATORS = new Set(['<', '<=', '=', '>', '>=']);
const MATCHER_KEYS = new Set([
  'prefix',
  'suffix',
  'equals-ignore-case',
  'anything-but',
  'exists',
  'numeric',
  'wildcard',
]);

/**
 * Checks a pattern the way EventBridge does when a rule is created, for the subset this stack
 * implements: exact values (strings, numbers, booleans, null), nested objects, `prefix`,
 * `suffix`, `equals-ignore-case`, `anything-but` (value, list, prefix, suffix), `exists`,
 * `numeric` (`<`, `<=`, `=`, `>`, `>=`, one or two bounds), `wildcard` and `$or`.
 * Anything else (e.g. `cidr`) throws `InvalidEventPatternError`.
 */
export function validateEventPattern(pattern: unknown): asserts pattern is EventPattern {
  validateObject(pattern, '');
}

/**
 * Whether `event` (the full envelope: `source`, `detail-type`, `detail`, ...) matches the
 * pattern. All fields of the pattern must match; a matcher list matches when any matcher
 * does; an array in the event matches when any of its elements does.
 */
export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  return matchObject(pattern, event);
}

function validateObject(pattern: unknown, where: string): void {
  if (!isPlainObject(pattern)) throw new InvalidEventPatternError(`${where || 'the pattern'} must be a JSON object`);
  const keys = Object.keys(pattern);
  if (keys.length === 0) throw new InvalidEventPatternError(`${where || 'the pattern'} must not be empty`);
  for (const key of keys) {
    const value = pattern[key];
    const path = where ? `${where}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) {
        throw new InvalidEventPatternError(`${path} must be an array of at least two patterns`);
      }
      for (const [i, sub] of value.entries()) validateObject(sub, `${path}[${i}]`);
    } else if (Array.isArray(value)) {
      for (const matcher of value) validateMatcher(matcher, path);
    } else if (isPlainObject(value)) {
      validateObject(value, path);
    } else {
      throw new InvalidEventPatternError(`match value of ${path} must be an array or an object`);
    }
  }
}

function validateMatcher(matcher: unknown, path: string): void {
  if (isLeaf(matcher)) return;
  if (!isPlainObject(matcher))
    throw new InvalidEventPatternError(`${path}: ${JSON.stringify(matcher)} is not a valid matcher`);
  const keys = Object.keys(matcher);
  const [key] = keys;
  if (keys.length !== 1 || key === undefined || !MATCHER_KEYS.has(key)) {
    throw new InvalidEventPatternError(`${path}: unsupported matcher ${JSON.stringify(matcher)}`);
  }
  const operand = matcher[key];
  switch (key) {
    case 'exists':
      if (typeof operand !== 'boolean') throw new InvalidEventPatternError(`${path}: exists takes true or false`);
      return;
    case 'prefix':
    case 'suffix':
      if (typeof operand === 'string') return;
      if (
        isPlainObject(operand) &&
        typeof operand['equals-ignore-case'] === 'string' &&
        Object.keys(operand).length === 1
      )
        return;
      throw new InvalidEventPatternError(`${path}: ${key} takes a string`);
    case 'equals-ignore-case':
    case 'wildcard':
      if (typeof operand !== 'string') throw new InvalidEventPatternError(`${path}: ${key} takes a string`);
      return;
    case 'numeric':
      validateNumeric(operand, path);
      return;
    case 'anything-but':
      if (typeof operand === 'string' || typeof operand === 'number') return;
      if (
        Array.isArray(operand) &&
        operand.length > 0 &&
        operand.every((v) => typeof v === 'string' || typeof v === 'number')
      )
        return;
      if (isPlainObject(operand) && Object.keys(operand).length === 1) {
        const [inner] = Object.keys(operand);
        if (
          (inner === 'prefix' || inner === 'suffix' || inner === 'equals-ignore-case') &&
          typeof operand[inner] === 'string'
        )
          return;
      }
      throw new InvalidEventPatternError(
        `${path}: anything-but takes a value, a list of values, prefix, suffix or equals-ignore-case`,
      );
  }
}

function validateNumeric(operand: unknown, path: string): void {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
    throw new InvalidEventPatternError(`${path}: numeric takes [op, n] or [op, n, op, n]`);
  }
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const n = operand[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPERATORS.has(op) || typeof n !== 'number' || !Number.isFinite(n)) {
      throw new InvalidEventPatternError(`${path}: numeric has a bad operator or number near ${JSON.stringify(op)}`);
    }
  }
  if (operand.length === 4 && (!String(operand[0]).startsWith('>') || !String(operand[2]).startsWith('<'))) {
    throw new InvalidEventPatternError(
      `${path}: a numeric range is a lower bound (> or >=) then an upper bound (< or <=)`,
    );
  }
}

function matchObject(pattern: EventPattern, value: unknown): boolean {
  const object = isPlainObject(value) ? value : undefined;
  for (const [key, expected] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(expected as EventPattern[]).some((sub) => matchObject(sub, value))) return false;
      continue;
    }
    const actual = object?.[key];
    if (Array.isArray(expected)) {
      if (!matchLeaf(expected, actual)) return false;
    } else if (Array.isArray(actual)) {
      // Arrays of objects: the pattern matches when any element matches.
      if (!actual.some((element) => matchObject(expected as EventPattern, element))) return false;
    } else if (!matchObject(expected as EventPattern, actual)) {
      return false;
    }
  }
  return true;
}

function matchLeaf(matchers: readonly unknown[], actual: unknown): boolean {
  const present = actual !== undefined;
  const values: Leaf[] = (Array.isArray(actual) ? actual : present ? [actual] : []).filter(isLeaf);
  return matchers.some((matcher) => {
    if (isLeaf(matcher)) return values.some((v) => v === matcher);
    const [key, operand] = Object.entries(matcher as Record<string, unknown>)[0] ?? [];
    switch (key) {
      case 'exists':
        return operand === true ? present && !isPlainObject(actual) : !present;
      case 'prefix':
        return strings(values).some((v) => affix(v, operand, (s, p) => s.startsWith(p)));
      case 'suffix':
        return strings(values).some((v) => affix(v, operand, (s, p) => s.endsWith(p)));
      case 'equals-ignore-case':
        return strings(values).some((v) => v.toLowerCase() === String(operand).toLowerCase());
      case 'wildcard':
        return strings(values).some((v) => wildcardRegExp(String(operand)).test(v));
      case 'numeric':
        return values.some((v) => typeof v === 'number' && numericMatches(operand as readonly unknown[], v));
      case 'anything-but':
        return values.some((v) => !anythingButExcludes(operand, v));
      default:
        return false;
    }
  });
}

function anythingButExcludes(operand: unknown, value: Leaf): boolean {
  if (Array.isArray(operand)) return operand.includes(value);
  if (isPlainObject(operand)) {
    if (typeof value !== 'string') return false;
    const [inner, text] = Object.entries(operand)[0] ?? [];
    const s = String(text);
    if (inner === 'prefix') return value.startsWith(s);
    if (inner === 'suffix') return value.endsWith(s);
    return value.toLowerCase() === s.toLowerCase();
  }
  return operand === value;
}

function affix(value: string, operand: unknown, test: (s: string, p: string) => boolean): boolean {
  if (typeof operand === 'string') return test(value, operand);
  const text = String((operand as Record<string, unknown>)['equals-ignore-case']);
  return test(value.toLowerCase(), text.toLowerCase());
}

function numericMatches(operand: readonly unknown[], value: number): boolean {
  for (let i = 0; i < operand.length; i += 2) {
    const n = operand[i + 1] as number;
    switch (operand[i]) {
      case '<':
        if (!(value < n)) return false;
        break;
      case '<=':
        if (!(value <= n)) return false;
        break;
      case '=':
        if (value !== n) return false;
        break;
      case '>':
        if (!(value > n)) return false;
        break;
      case '>=':
        if (!(value >= n)) return false;
        break;
    }
  }
  return true;
}

function wildcardRegExp(pattern: string): RegExp {
  const escaped = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`, 's');
}

function strings(values: readonly Leaf[]): string[] {
  return values.filter((v): v is string => typeof v === 'string');
}

function isLeaf(value: unknown): value is Leaf {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
