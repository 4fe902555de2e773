import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsString, Matches, Max, Min } from 'class-validator';
import { toBoolean, toInteger, toTrimmed } from './env-parsers';

/*
 * One decorator per kind of environment variable: how its string is converted, then how it is checked.
 * class-validator runs a property's validators in the order they were applied and stops at the first
 * failure; these apply the type check first, so a malformed value is reported as such before its range.
 */

/** A whole number from `min` to `max`. */
export const IntegerVariable = (min: number, max: number): PropertyDecorator => applyDecorators(Transform(toInteger), IsInt(), Max(max), Min(min));

/** A flag: true/1/yes/on or false/0/no/off. */
export const FlagVariable = (): PropertyDecorator => applyDecorators(Transform(toBoolean), IsBoolean());

/** A non-empty string, trimmed. */
export const TextVariable = (): PropertyDecorator => applyDecorators(Transform(toTrimmed), IsString(), IsNotEmpty());

/** One of `choices`, trimmed. */
export const ChoiceVariable = (choices: readonly unknown[]): PropertyDecorator => applyDecorators(Transform(toTrimmed), IsIn(choices));

/** A string, trimmed, matching `pattern`; `message` says what is expected. */
export const PatternVariable = (pattern: RegExp, message: string): PropertyDecorator => applyDecorators(Transform(toTrimmed), IsString(), Matches(pattern, { message }));
