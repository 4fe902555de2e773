// class-transformer's @Type reads decorator metadata; loaded here so the file validates outside Nest too.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
  validateSync,
  ValidationError,
} from 'class-validator';
import { parse } from 'yaml';
import { RISK_CATEGORIES } from '../inference';
import { ANONYMOUS_TENANT_ID, CATEGORY_ACTIONS, CategoryAction, CONTROVERSIAL_HANDLING, ControversialHandling, OTHER_TENANT_LABEL } from './tenant';

/**
 * The tenants file (QWEN3GUARD_TENANTS_FILE), as written by operators: YAML (or JSON), validated whole at
 * start-up so that a typo stops the service with the path of the bad field instead of serving with a
 * policy nobody meant. config/tenants.example.yaml documents every field.
 */

const KEY_HASH = /^sha256:[0-9a-f]{64}$/;
/** Tenant ids become metric label values and usage rows: short, plain, and never a reserved label. */
const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export class RateLimitEntry {
  @Min(1)
  @IsInt()
  requestsPerSecond!: number;

  @Min(1)
  @IsInt()
  burst!: number;
}

export class PolicyEntry {
  @IsOptional()
  @IsIn(CONTROVERSIAL_HANDLING)
  controversial?: ControversialHandling;

  @IsOptional()
  @Max(1)
  @Min(0)
  @IsNumber()
  unsafeThreshold?: number;

  /** Category name (as the model prints it) -> action; checked by {@link categoryProblems}. */
  @IsOptional()
  @IsObject()
  categories?: Record<string, string>;

  @IsOptional()
  @IsIn(CATEGORY_ACTIONS)
  defaultAction?: CategoryAction;
}

export class BlocklistEntry {
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @ArrayMinSize(1)
  @IsArray()
  terms!: string[];

  @IsOptional()
  @IsBoolean()
  shortCircuit?: boolean;
}

/** Settings every tenant entry and the anonymous caller share. */
export class TenantSettingsEntry {
  @IsOptional()
  @ValidateNested()
  @Type(() => PolicyEntry)
  policy?: PolicyEntry;

  @IsOptional()
  @ValidateNested()
  @Type(() => RateLimitEntry)
  rateLimit?: RateLimitEntry;

  @IsOptional()
  @Min(1)
  @IsInt()
  maxBatchSize?: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => BlocklistEntry)
  blocklist?: BlocklistEntry;
}

export class TenantEntry extends TenantSettingsEntry {
  @Matches(TENANT_ID, { message: 'id must be 1-63 characters of a-z, 0-9, "-" and "_", starting with a letter or digit' })
  @IsString()
  id!: string;

  @IsNotEmpty()
  @IsString()
  name!: string;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @IsOptional()
  @IsBoolean()
  admin?: boolean;

  @Matches(KEY_HASH, { each: true, message: 'keys must be API key hashes, sha256:<64 hex digits> (`qwen3guard key create` prints them)' })
  @IsArray()
  keys!: string[];
}

export class TenantsFile {
  @ValidateNested({ each: true })
  @Type(() => TenantEntry)
  @IsArray()
  tenants!: TenantEntry[];

  /** Applies to requests without a key, where ALLOW_ANONYMOUS lets them in. */
  @IsOptional()
  @ValidateNested()
  @Type(() => TenantSettingsEntry)
  anonymous?: TenantSettingsEntry;
}

export class InvalidTenantsFileError extends Error {
  constructor(path: string, problems: readonly string[]) {
    super(`invalid tenants file ${path}: ${problems.join('; ')}`);
    this.name = 'InvalidTenantsFileError';
  }
}

/** Reads and validates a tenants file; throws {@link InvalidTenantsFileError} naming every bad field. */
export function readTenantsFile(path: string): TenantsFile {
  let raw: unknown;
  try {
    raw = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InvalidTenantsFileError(path, [error instanceof Error ? error.message : String(error)]);
  }
  return validateTenantsFile(raw, path);
}

export function validateTenantsFile(raw: unknown, path: string): TenantsFile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new InvalidTenantsFileError(path, ['the file must hold a mapping with a `tenants` list']);
  const file = plainToInstance(TenantsFile, raw);
  const problems = [
    ...validateSync(file, { stopAtFirstError: true, forbidUnknownValues: true, whitelist: true, forbidNonWhitelisted: true }).flatMap((error) =>
      messagesOf(error, ''),
    ),
    ...crossEntryProblems(file),
  ];
  if (problems.length > 0) throw new InvalidTenantsFileError(path, problems);
  return file;
}

function messagesOf(error: ValidationError, parent: string): string[] {
  const path = parent ? `${parent}.${error.property}` : error.property;
  const own = Object.values(error.constraints ?? {}).map((message) => `${path}: ${message}`);
  return [...own, ...(error.children ?? []).flatMap((child) => messagesOf(child, path))];
}

function crossEntryProblems(file: TenantsFile): string[] {
  if (!Array.isArray(file.tenants)) return [];
  const problems: string[] = [];
  const ids = new Set<string>();
  const keys = new Set<string>();
  file.tenants.forEach((tenant, index) => {
    if (!tenant || typeof tenant !== 'object') return;
    if (tenant.id === ANONYMOUS_TENANT_ID || tenant.id === OTHER_TENANT_LABEL) problems.push(`tenants.${index}.id: "${tenant.id}" is reserved`);
    if (ids.has(tenant.id)) problems.push(`tenants.${index}.id: "${tenant.id}" is used twice`);
    ids.add(tenant.id);
    for (const key of Array.isArray(tenant.keys) ? tenant.keys : []) {
      if (keys.has(key)) problems.push(`tenants.${index}.keys: a key hash is listed for two tenants`);
      keys.add(key);
    }
    problems.push(...categoryProblems(tenant.policy, `tenants.${index}.policy`));
  });
  problems.push(...categoryProblems(file.anonymous?.policy, 'anonymous.policy'));
  return problems;
}

const KNOWN_CATEGORIES = new Set<string>(RISK_CATEGORIES);
const KNOWN_ACTIONS = new Set<string>(CATEGORY_ACTIONS);

function categoryProblems(policy: PolicyEntry | undefined, path: string): string[] {
  if (!policy?.categories || typeof policy.categories !== 'object') return [];
  return Object.entries(policy.categories).flatMap(([category, action]) => [
    ...(KNOWN_CATEGORIES.has(category) ? [] : [`${path}.categories: unknown category "${category}" (one of: ${RISK_CATEGORIES.join(', ')})`]),
    ...(KNOWN_ACTIONS.has(action) ? [] : [`${path}.categories.${category}: must be one of ${CATEGORY_ACTIONS.join(', ')}`]),
  ]);
}
