import { ValidationError } from 'class-validator';
import { ErrorCode } from '../error-code';
import { OBJECT_LEVEL_CONTEXT } from './object-level';
import { toValidationException } from './validation-error.mapper';

function error(property: string, constraints?: Record<string, string>, children: ValidationError[] = [], contexts?: Record<string, unknown>): ValidationError {
  return Object.assign(new ValidationError(), { property, constraints, children, contexts });
}

describe('toValidationException', () => {
  it('names the first bad top-level field', () => {
    const exception = toValidationException([error('text', { isString: 'text must be a string' }), error('other', { isInt: 'other must be an integer' })]);
    expect(exception).toMatchObject({ code: ErrorCode.ValidationFailed, message: 'text must be a string', field: 'text' });
  });

  it('follows nested errors depth first and spells the whole path', () => {
    const nested = error('messages', undefined, [error('0', undefined, [error('content', { isString: 'content must be a string' })])]);
    expect(toValidationException([nested])).toMatchObject({ message: 'messages.0.content must be a string', field: 'messages.0.content' });
  });

  it('spells the path of an unknown nested field', () => {
    const nested = error('items', undefined, [error('0', undefined, [error('extra', { whitelistValidation: 'property extra should not exist' })])]);
    expect(toValidationException([nested])).toMatchObject({ message: 'property items.0.extra should not exist', field: 'items.0.extra' });
  });

  it('reports an object-level rule against the object, not the property carrying it', () => {
    const rule = { exactlyOneOf: 'provide exactly one of prompt or messages' };
    const nested = error('items', undefined, [error('1', undefined, [error('prompt', rule, [], { exactlyOneOf: OBJECT_LEVEL_CONTEXT })])]);
    expect(toValidationException([nested])).toMatchObject({ message: 'provide exactly one of prompt or messages', field: 'items.1' });
    const topLevel = toValidationException([error('prompt', rule, [], { exactlyOneOf: OBJECT_LEVEL_CONTEXT })]);
    expect(topLevel.field).toBeUndefined();
  });

  it('still answers when class-validator gives no constraint', () => {
    expect(toValidationException([])).toMatchObject({ code: ErrorCode.ValidationFailed, message: 'the request body is invalid' });
  });
});
