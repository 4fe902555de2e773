const PART = /^[\w.-]{1,96}$/;

/**
 * True for a Hugging Face model repo id, `owner/name`, as huggingface_hub validates one: letters, digits,
 * `-`, `_` and `.`, neither starting nor ending with `-` or `.`, and no `--` or `..` (the cache's folder
 * names use `--` as the separator, and `..` would leave the cache).
 */
export function isRepoId(value: string): boolean {
  const parts = value.split('/');
  return parts.length === 2 && parts.every(isRepoIdPart);
}

function isRepoIdPart(part: string): boolean {
  return PART.test(part) && !/^[.-]|[.-]$/.test(part) && !part.includes('--') && !part.includes('..');
}
