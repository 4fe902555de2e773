import { ApiException } from '../api-exception';
import { ErrorCode } from '../error-code';

/**
 * How deep a request body may nest. The deepest valid body, `{"items": [{"messages": [{"content": ""}]}]}`,
 * is 5 levels; anything much deeper is malformed, and deep enough nesting overflows the stack of the
 * recursive transformer and validator behind the DTOs (a 500 where a 400 belongs).
 */
export const MAX_BODY_DEPTH = 8;

/**
 * Checks what class-transformer and class-validator cannot: nesting depth, iteratively so that no
 * body can overflow the check itself, and keys named after Object.prototype members (`constructor`,
 * `toString`), which class-transformer drops before the unknown-field check would see them.
 * Throws the same 400 VALIDATION_FAILED the DTOs give, naming the field.
 */
export function assertPlainBodyShape(body: object): void {
  const pending: Array<{ value: object; path: string; depth: number }> = [{ value: body, path: '', depth: 1 }];
  while (pending.length > 0) {
    const { value, path, depth } = pending.pop()!;
    if (depth > MAX_BODY_DEPTH) {
      throw new ApiException(ErrorCode.ValidationFailed, `the request body nests deeper than ${MAX_BODY_DEPTH} levels`, { field: path || undefined });
    }
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (!Array.isArray(value) && key in Object.prototype) {
        throw new ApiException(ErrorCode.ValidationFailed, `property ${key} should not exist`, { field: childPath });
      }
      if (typeof child === 'object' && child !== null) pending.push({ value: child as object, path: childPath, depth: depth + 1 });
    }
  }
}
