/**
 * Helpers for the classes that declare environment variables (config's
 * EnvironmentVariables and each destination plug-in's own): values arrive as
 * strings; numeric ones are converted before validation so a message can say
 * "PORT must not be greater than 65535" rather than "must be a number string".
 */
export const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;

/** @IsUrl options of every URL variable: http or https, a host without a TLD allowed. */
export const URL_OPTIONS = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

/** A variable validated by @IsBooleanString: true/false or 1/0; unset gives `fallback`. */
export function booleanOf(value: string | undefined, fallback: boolean): boolean {
  return value === undefined ? fallback : value === 'true' || value === '1';
}
