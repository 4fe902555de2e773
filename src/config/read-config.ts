import { ClassConstructor, plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';

/** Environment-shaped input: process.env, or process.env with test overrides laid over it. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** Start-up stops on this; its message names every variable that needs fixing. */
export class InvalidConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'InvalidConfigError';
  }
}

/** A configuration class read from `env` and converted by its transforms, with what its validators found wrong. */
export interface ReadConfig<T> {
  config: T;
  /** One entry per variable in error, `property` naming it. */
  errors: ValidationError[];
}

/**
 * Reads the variables a configuration class declares (its property names) from `env` over `defaults`;
 * an empty value counts as unset, as shells and compose files produce them.
 */
export function readConfig<T extends object>(type: ClassConstructor<T>, env: EnvSource, defaults: Record<string, string> = {}): ReadConfig<T> {
  const picked: Record<string, string> = { ...defaults };
  for (const name of declaredVariables(type)) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') picked[name] = value;
  }
  const config = plainToInstance(type, picked);
  return { config, errors: validateSync(config, { stopAtFirstError: true }) };
}

function declaredVariables(type: ClassConstructor<object>): Set<string> {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
  return new Set(metadata.map((entry) => entry.propertyName));
}

/** What is wrong with one variable, worded to name it. */
export function messagesOf(error: ValidationError): string[] {
  return Object.values(error.constraints ?? {});
}
