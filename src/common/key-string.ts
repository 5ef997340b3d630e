/** C0 and C1 control characters and DEL: never part of a name, an id or a tag. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * What is wrong with a string that may become a key, an id, a column or report text (a user,
 * service, page, tag, SLA target): a lone UTF-16 surrogate (it cannot be stored as UTF-8, nor
 * named in a URL to read or erase it) or a control character (terminal escapes, line breaks,
 * NUL, which Postgres text cannot hold). Null when fine.
 */
export function keyStringProblem(value: string): string | null {
  if (!value.isWellFormed()) return 'must be well-formed Unicode (no lone UTF-16 surrogates)';
  if (CONTROL_CHARACTER.test(value)) return 'must not contain control characters (U+0000-U+001F, U+007F-U+009F)';
  return null;
}
