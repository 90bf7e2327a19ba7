import { ApiError } from './api/client';
import { formatCount } from './format';

/** What a form says about one of its text fields, in words people use. */
export interface TextRule {
  /** When it is empty or only spaces: "Please give your ticket a title". */
  empty: string;
  /** What it is, for "Your message is too long: …". */
  noun: string;
  /** Its longest length in characters, from the OpenAPI document (api/limits.ts). */
  max: number;
}

/** The length the API counts: characters (code points), so an emoji is one, as people count it. */
export function textLength(value: string): number {
  let length = 0;
  for (const _ of value) length++;
  return length;
}

/** "Your message is too long: 20,412 of 20,000 characters". */
export function tooLongMessage(rule: TextRule, length: number): string {
  return `Your ${rule.noun} is too long: ${formatCount(length)} of ${formatCount(rule.max)} characters`;
}

/** The problem with a text field's value before it is sent, or undefined when there is none. */
export function checkText(value: string, rule: TextRule): string | undefined {
  if (!/\S/.test(value)) return rule.empty;
  const length = textLength(value);
  return length > rule.max ? tooLongMessage(rule, length) : undefined;
}

/** Every field's problem before sending; empty when the form may go. */
export function checkForm(values: Record<string, string>, rules: Record<string, TextRule>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [field, rule] of Object.entries(rules)) {
    const message = checkText(values[field] ?? '', rule);
    if (message) errors[field] = message;
  }
  return errors;
}

const GENERIC_INVALID = 'Something this form sent was not accepted. Please reload the page and try again.';

/**
 * A refused request as messages for a form: its fields' messages in people's words (the API's
 * `errors[]` name the rule, like "expected length <= 200"), and one sentence for everything else.
 * `conflict` is what a 409 means for this form.
 */
export function describeFormError(
  error: unknown,
  rules: Record<string, TextRule>,
  values: Record<string, string>,
  conflict = 'Someone changed this in the meantime. Please reload the page and try again.',
): { fields: Record<string, string>; message: string | undefined } {
  if (!(error instanceof ApiError)) return { fields: {}, message: error instanceof Error ? error.message : undefined };
  if (error.status !== 422) return { fields: {}, message: describeRequestError(error, conflict) };
  const fields: Record<string, string> = {};
  let other: string | undefined;
  for (const e of error.problem?.errors ?? []) {
    const message = e.message ?? '';
    // A missing property is reported on the body as a whole, naming the property.
    const field = e.location?.startsWith('body.') ? e.location.slice('body.'.length) : /required property (\w+)/.exec(message)?.[1];
    const rule = field === undefined ? undefined : rules[field];
    if (field === undefined || rule === undefined) {
      other = GENERIC_INVALID;
    } else if (!(field in fields)) {
      const tooLong = /expected length <= \d+/.test(message);
      fields[field] = tooLong ? tooLongMessage(rule, textLength(values[field] ?? '')) : (checkText(values[field] ?? '', rule) ?? rule.empty);
    }
  }
  const marked = Object.keys(fields).length > 0 ? 'Please correct the fields marked below.' : undefined;
  return { fields, message: [marked, other].filter(Boolean).join(' ') || (marked ? undefined : GENERIC_INVALID) };
}

/** Why a request failed, for a person: never the validator's or the server's internal words. */
export function describeRequestError(error: unknown, conflict: string): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  if (error.status === 0) return 'We could not reach the server. Nothing was lost: check your connection and try again.';
  if (error.status === 403) return 'You are not allowed to do this.';
  if (error.status === 404) return 'This ticket does not exist any more, or it is no longer yours to see.';
  if (error.status === 409 || error.status === 412) return conflict;
  if (error.status === 413) return 'That is too much to send at once. Please make it shorter.';
  if (error.status === 429) return 'You are sending very quickly. Please wait a moment, then try again.';
  if (error.status >= 500) return 'Something went wrong on our side. Nothing was lost: please try again in a moment.';
  return GENERIC_INVALID;
}
