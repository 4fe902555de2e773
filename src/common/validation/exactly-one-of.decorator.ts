import { applyDecorators } from '@nestjs/common';
import { ValidateBy, ValidateIf, ValidationArguments } from 'class-validator';
import { OBJECT_LEVEL_CONTEXT } from './object-level';

function presentCount(object: object, fields: readonly string[]): number {
  return fields.filter((field) => (object as Record<string, unknown>)[field] !== undefined).length;
}

/**
 * For alternative forms of one request (`prompt` or `messages` or `items`): put it on each of the
 * alternative fields, instead of @IsOptional, so that it is checked before the field's own rules (as
 * the decorator nearest the property, or first in an applyDecorators list). The field's rules run only when it is present; the field marked
 * `reportsAbsence` also reports a body that has none of them.
 */
export function ExactlyOneOf(fields: readonly string[], options: { reportsAbsence?: boolean } = {}): PropertyDecorator {
  const wording = `${fields.slice(0, -1).join(', ')} or ${fields[fields.length - 1]}`;
  return applyDecorators(
    ValidateIf((object: object, value: unknown) => value !== undefined || (options.reportsAbsence === true && presentCount(object, fields) === 0)),
    ValidateBy(
      {
        name: 'exactlyOneOf',
        constraints: [fields],
        validator: {
          validate: (_value: unknown, args?: ValidationArguments) => args !== undefined && presentCount(args.object, fields) === 1,
          defaultMessage: () => `provide exactly one of ${wording}`,
        },
      },
      { context: OBJECT_LEVEL_CONTEXT },
    ),
  );
}
