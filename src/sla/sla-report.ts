import type { SlaStatusBody } from './sla-status.js';
import type { SlaStatuses } from './sla.service.js';

const RULE = '='.repeat(60);

const ICONS: Record<SlaStatusBody['status'], string> = { meeting: '✅', violated: '❌', no_data: '⚪', no_target: '➖' };

/**
 * Whether a code point must not reach a terminal raw: C0 controls (CR, LF and ESC,
 * which starts ANSI sequences, among them), DEL, C1 controls (U+009B is a one-byte
 * CSI), the line and paragraph separators, the bidirectional embedding, override
 * and isolate controls (they reorder what an operator reads), and lone surrogates
 * (not text; they would be sent as U+FFFD).
 */
function mustEscape(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    (code >= 0xd800 && code <= 0xdfff)
  );
}

/**
 * Text from data (service and target names) as the report prints it: every
 * character above written as a visible `\u001b`-style escape, and the backslash
 * itself as `\\`, so an escape in the report always stands for one character.
 */
export function escapeReportText(text: string): string {
  let escaped = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === '\\') escaped += '\\\\';
    else if (mustEscape(code)) escaped += `\\u${code.toString(16).padStart(4, '0')}`;
    else escaped += char;
  }
  return escaped;
}

const mark = (ok: boolean | null) => (ok === null ? '' : ok ? ' ✓' : ' ✗');
const milliseconds = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(2)}ms`);
const percent = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(3)}%`);

/**
 * The human report in the original design's layout: a header, then per service
 * a ✅/❌ line and its P95/P99 against target, availability and error rate, with
 * Vigil's additions (requests, error budget left, burn rate). Every string from
 * data goes through escapeReportText: the report never carries a raw control
 * character but the newlines between its own lines.
 */
export function renderReport(statuses: SlaStatuses, generatedAt: string, window: string | undefined): string {
  const lines = [`SLA Report - ${generatedAt}`, `Window: ${window ?? "each target's window (30d when unset)"}`, RULE, ''];
  if (statuses.size === 0) lines.push('No services with a target or with data.', '');
  for (const status of statuses.values()) {
    const { latency, availability, error_rate: errorRate, requests } = status.metrics;
    const name = escapeReportText(status.target ?? status.service);
    lines.push(`${ICONS[status.status]} ${name} (${escapeReportText(status.service)}) - ${status.status.replace('_', ' ')}, window ${status.window}`);
    const target = (value: number | null, unit: string) => (value === null ? '' : ` (target: ${value}${unit})`);
    lines.push(`   P95: ${milliseconds(latency.p95_ms)}${target(latency.p95_target_ms, 'ms')}${mark(latency.p95_ok)}`);
    lines.push(`   P99: ${milliseconds(latency.p99_ms)}${target(latency.p99_target_ms, 'ms')}${mark(latency.p99_ok)}`);
    lines.push(`   Availability: ${percent(availability.current_percent)}${target(availability.target_percent, '%')}${mark(availability.ok)}`);
    lines.push(`   Error Rate: ${percent(errorRate.current_percent)}${target(errorRate.target_percent, '%')}${mark(errorRate.ok)}`);
    lines.push(`   Requests: ${requests.total} total, ${requests.successful} successful, ${requests.failed} failed`);
    if (status.error_budget) {
      const budget = status.error_budget;
      lines.push(`   Error Budget Left: ${budget.remaining_percent.toFixed(3)}% of ${budget.allowed_failures} allowed failures over ${budget.window} (${budget.consumed_failures} used)`);
    }
    if (status.burn_rate) {
      const rates = status.burn_rate.windows;
      const firing = status.burn_rate.firing_tier ? `, ${status.burn_rate.firing_tier.toUpperCase()} alert firing` : '';
      lines.push(`   Burn Rate: ${rates['1h']}x over 1h, ${rates['5m']}x over 5m, ${rates['6h']}x over 6h, ${rates['3d']}x over 3d${firing}`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}`;
}
