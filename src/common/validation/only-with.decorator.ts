import { applyDecorators } from '@nestjs/common';
import { ValidateBy, ValidateIf, ValidationArguments } from 'class-validator';

/**
 * An optional field that only makes sense next to another one (`response` needs `prompt`). Use it
 * instead of @IsOptional, checked before the field's own rules (nearest the property, or first in an
 * applyDecorators list).
 */
export function OnlyWith(companion: string): PropertyDecorator {
  return applyDecorators(
    ValidateIf((_object: object, value: unknown) => value !== undefined),
    ValidateBy({
      name: 'onlyWith',
      constraints: [companion],
      validator: {
        validate: (_value: unknown, args?: ValidationArguments) => args !== undefined && (args.object as Record<string, unknown>)[companion] !== undefined,
        defaultMessage: (args?: ValidationArguments) => `${args?.property ?? 'this field'} is only allowed together with ${companion}`,
      },
    }),
  );
}
