import type { CombinedError } from "urql";

// What the console shows for a failed operation: a message per field
// (extensions.field, SPEC §4) to put next to that field, and the rest.
export interface FormErrors {
  fields: Record<string, string>;
  general: string[];
  codes: string[];
}

export const noErrors: FormErrors = { fields: {}, general: [], codes: [] };

type Translate = (key: string, opts?: Record<string, unknown>) => string;

// The error's code in words (common:code.<CODE>), with the server's message
// after it when it says more than the code (e.g. which limit, which rule).
export function describe(t: Translate, code: string | undefined, message: string): string {
  const words = code ? t(`common:code.${code}`, { defaultValue: "" }) : "";
  if (!words) return message;
  return message && !message.startsWith(code ?? "\u0000") ? `${words} (${message})` : words;
}

export function formErrors(t: Translate, err: CombinedError | undefined | null): FormErrors {
  if (!err) return noErrors;
  const out: FormErrors = { fields: {}, general: [], codes: [] };
  if (err.networkError && err.graphQLErrors.length === 0) {
    out.general.push(t("common:networkError"));
    return out;
  }
  for (const e of err.graphQLErrors) {
    const code = e.extensions?.code as string | undefined;
    const field = e.extensions?.field as string | undefined;
    if (code) out.codes.push(code);
    const text = describe(t, code, e.message);
    if (field && !(field in out.fields)) out.fields[field] = text;
    else out.general.push(text);
  }
  return out;
}

// The field's error, looked up by the argument names a form may use for
// it (e.g. "input.host" or "host").
export function fieldError(errs: FormErrors, ...names: string[]): string | undefined {
  for (const n of names) {
    if (errs.fields[n]) return errs.fields[n];
    for (const [k, v] of Object.entries(errs.fields)) {
      if (k.endsWith(`.${n}`)) return v;
    }
  }
  return undefined;
}
