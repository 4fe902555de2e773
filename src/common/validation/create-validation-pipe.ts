import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { ApiException } from '../api-exception';
import { ErrorCode } from '../error-code';
import { assertPlainBodyShape } from './body-shape';
import { toValidationException } from './validation-error.mapper';

/**
 * Rejects a body that is JSON but not an object (an array, a string, a number) in one clear sentence,
 * which class-validator would otherwise describe as "property 0 should not exist" or a missing field,
 * and a body too deep or with keys the DTOs cannot see (body-shape.ts).
 */
class JsonObjectValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new ApiException(ErrorCode.ValidationFailed, 'the request body must be a JSON object');
    }
    if (metadata.type === 'body' && value !== undefined) assertPlainBodyShape(value as object);
    return super.transform(value, metadata);
  }
}

/** The global pipe: strict DTOs (unknown fields are a 400), converted to their classes. */
export function createValidationPipe(): ValidationPipe {
  return new JsonObjectValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    stopAtFirstError: true,
    // Errors never carry the submitted values: they may be the very text being moderated.
    validationError: { target: false, value: false },
    exceptionFactory: toValidationException,
  });
}
