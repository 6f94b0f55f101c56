import * as v from 'valibot';

/**
 * A platform's launch form as one valibot object schema: each entry is a field whose title
 * labels it, whose default fills it, whose metadata (LaunchFieldMeta) says how to draw it, and
 * whose checks are the platform's own limits. Its output is the request the dialect sends.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the form's values are checked by the schema itself
export type LaunchSchema<Request = unknown> = v.GenericSchema<any, Request> & { readonly type: 'object'; readonly entries: v.ObjectEntries };

/** How a field is drawn, beyond what its type says. */
export interface LaunchFieldMeta {
  /** several lines rather than one */
  multiline?: number;
  placeholder?: string;
  /** values offered while typing (a free text field) */
  suggestions?: readonly string[];
  /** the field takes the whole row */
  wide?: boolean;
}

export type LaunchField =
  | { name: string; title: string; meta: LaunchFieldMeta; control: 'text'; initial: string }
  | { name: string; title: string; meta: LaunchFieldMeta; control: 'number'; initial: number }
  | { name: string; title: string; meta: LaunchFieldMeta; control: 'check'; initial: boolean }
  | { name: string; title: string; meta: LaunchFieldMeta; control: 'choice'; initial: string; options: readonly string[] };

type Entry = v.GenericSchema & { pipe?: readonly { type: string }[]; wrapped?: Entry; options?: readonly string[] };

/** The fields of a launch schema, in order, with what the form needs to draw each. */
export function launchFields(schema: LaunchSchema): LaunchField[] {
  return Object.entries(schema.entries).map(([name, entry]) => {
    let root = entry as Entry;
    if (root.pipe) root = root.pipe[0] as Entry;
    while ((root.type === 'optional' || root.type === 'nullish' || root.type === 'exact_optional') && root.wrapped) root = root.wrapped;
    const title = v.getTitle(entry) ?? name;
    const meta = (v.getMetadata(entry) ?? {}) as LaunchFieldMeta;
    const initial = v.getDefault(entry as v.GenericSchema) as unknown;
    switch (root.type) {
      case 'boolean':
        return { name, title, meta, control: 'check', initial: initial === true };
      case 'number':
        return { name, title, meta, control: 'number', initial: typeof initial === 'number' ? initial : 0 };
      case 'picklist':
        return { name, title, meta, control: 'choice', options: root.options ?? [], initial: String(initial ?? root.options?.[0] ?? '') };
      case 'string':
        return { name, title, meta, control: 'text', initial: typeof initial === 'string' ? initial : '' };
      default:
        throw new Error(`launch field ${name}: a ${root.type} field has no control`);
    }
  });
}

/** The form's values before anything is typed. */
export function launchDefaults(schema: LaunchSchema): Record<string, string | number | boolean> {
  return Object.fromEntries(launchFields(schema).map((field) => [field.name, field.initial]));
}

/** The form's values as the platform's request, or a message per field it rejects (the first each). */
export function parseLaunch<Request>(
  schema: LaunchSchema<Request>,
  values: unknown,
): { ok: true; request: Request } | { ok: false; fields: Record<string, string> } {
  const result = v.safeParse(schema, values);
  if (result.success) return { ok: true, request: result.output };
  const fields: Record<string, string> = {};
  for (const issue of result.issues) {
    const name = issue.path?.[0]?.key;
    const key = typeof name === 'string' ? name : 'form';
    fields[key] ??= issue.message;
  }
  return { ok: false, fields };
}

/** A launch the platform's rules reject, with a message per field. */
export class LaunchValidationError extends Error {
  constructor(readonly fields: Record<string, string>) {
    super(Object.values(fields).join(' '));
    this.name = 'LaunchValidationError';
  }
}

/** The request a platform's launch form makes of these values; throws LaunchValidationError when they break its rules. */
export function launchRequest<Request>(dialect: { label: string; launchSchema?: LaunchSchema<Request> }, values: unknown): Request {
  if (!dialect.launchSchema) throw new Error(`${dialect.label} jobs cannot be started from genwatch`);
  const parsed = parseLaunch(dialect.launchSchema, values);
  if (!parsed.ok) throw new LaunchValidationError(parsed.fields);
  return parsed.request;
}

/**
 * The free-text prompt most launch forms start with: trimmed, within the platform's limits,
 * with the messages the form shows when it is not.
 */
export function promptField({ describe, max, lines, placeholder }: { describe: string; max: number; lines: number; placeholder: string }) {
  return v.pipe(
    v.optional(v.string(), ''),
    v.trim(),
    v.minLength(3, `Describe ${describe} in at least 3 characters.`),
    v.maxLength(max, `Keep the prompt under ${max.toLocaleString('en')} characters.`),
    v.title('Prompt'),
    v.metadata({ multiline: lines, placeholder, wide: true }),
  );
}
