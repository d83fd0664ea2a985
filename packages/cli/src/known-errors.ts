import { FaultSpecError, LocalStateDirError } from '@covid-etl/local-pipeline';
import { LocalDynamoError, QueueStateError } from '@covid-etl/local-stack';
import { ConfigurationError, RunHistoryError } from '@covid-etl/platform';
import { InvalidArgumentError } from 'commander';
import { UsageError } from './commands/output.js';
import { OperatorError } from './ops/errors.js';

/**
 * A mistake of the caller's (bad input, configuration, local state) rather than a bug: printed
 * as one line, without a stack trace. Named imports only, so that loading this module loads the
 * error classes and not the packages around them.
 */
export function isCallersMistake(error: unknown): error is Error {
  return (
    error instanceof UsageError ||
    error instanceof InvalidArgumentError ||
    error instanceof OperatorError ||
    error instanceof FaultSpecError ||
    error instanceof LocalDynamoError ||
    error instanceof LocalStateDirError ||
    error instanceof QueueStateError ||
    error instanceof ConfigurationError ||
    error instanceof RunHistoryError
  );
}
