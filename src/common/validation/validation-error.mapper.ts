import { ValidationError } from 'class-validator';
import { ApiException } from '../api-exception';
import { ErrorCode } from '../error-code';
import { isObjectLevel } from './object-level';

interface Problem {
  message: string;
  field?: string;
}

/** The ValidationPipe's exceptionFactory: one 400 naming the first bad field, depth first. */
export function toValidationException(errors: ValidationError[]): ApiException {
  const problem = firstProblem(errors, undefined) ?? { message: 'the request body is invalid' };
  return new ApiException(ErrorCode.ValidationFailed, problem.message, { field: problem.field });
}

function firstProblem(errors: readonly ValidationError[], parentPath: string | undefined): Problem | undefined {
  for (const error of errors) {
    const path = parentPath === undefined ? error.property : `${parentPath}.${error.property}`;
    const [rule, message] = Object.entries(error.constraints ?? {})[0] ?? [];
    if (rule !== undefined && message !== undefined) {
      if (isObjectLevel(error.contexts?.[rule])) return { message, field: parentPath };
      return { message: withFullPath(rule, message, error.property, path), field: path };
    }
    const nested = firstProblem(error.children ?? [], path);
    if (nested) return nested;
  }
  return undefined;
}

/**
 * class-validator names only the last property ("content must be a string"); for a nested field the
 * whole path is what the client can act on ("messages.0.content must be a string").
 */
function withFullPath(rule: string, message: string, property: string, path: string): string {
  if (rule === 'whitelistValidation') return `property ${path} should not exist`;
  if (path !== property && message.startsWith(`${property} `)) return `${path}${message.slice(property.length)}`;
  return message;
}
