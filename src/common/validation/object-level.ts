/**
 * The validation context of a rule about a whole object (such as "exactly one of these fields"), so
 * the error names the object's path rather than the property the rule happens to be attached to.
 */
export const OBJECT_LEVEL_CONTEXT = { scope: 'object' } as const;

export function isObjectLevel(context: unknown): boolean {
  return (context as { scope?: unknown } | undefined)?.scope === OBJECT_LEVEL_CONTEXT.scope;
}
