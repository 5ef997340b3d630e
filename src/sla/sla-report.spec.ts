import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { escapeReportText, renderReport } from './sla-report.js';
import { buildStatus } from './sla-status.js';
import type { SlaStatuses } from './sla.service.js';

const NOW = Date.UTC(2026, 0, 10, 12, 0, 0);

/** Every code point the report must never write raw, whatever the store holds. */
const UNSAFE = [
  ...Array.from({ length: 0x20 }, (_, code) => code),
  ...Array.from({ length: 0x21 }, (_, index) => 0x7f + index),
  0x2028,
  0x2029,
  0x202a,
  0x202b,
  0x202c,
  0x202d,
  0x202e,
  0x2066,
  0x2067,
  0x2068,
  0x2069,
];

function rawUnsafe(text: string): string[] {
  const found: string[] = [];
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char !== '\n' && (UNSAFE.includes(code) || (code >= 0xd800 && code <= 0xdfff))) found.push(code.toString(16));
  }
  return found;
}

describe('report text escaping', () => {
  test('each control character becomes a visible \\u escape of its code point', () => {
    assert.equal(escapeReportText('a\u001b[31mred\u001b[0m'), 'a\\u001b[31mred\\u001b[0m');
    assert.equal(escapeReportText('line\r\nnext\tend\u0000'), 'line\\u000d\\u000anext\\u0009end\\u0000');
    assert.equal(escapeReportText('del\u007f c1\u0080\u009b2J'), 'del\\u007f c1\\u0080\\u009b2J');
    assert.equal(escapeReportText('ls\u2028ps\u2029'), 'ls\\u2028ps\\u2029');
    assert.equal(escapeReportText('\u202egnp.exe\u2066x\u2069'), '\\u202egnp.exe\\u2066x\\u2069');
    assert.equal(escapeReportText('lone\ud800 and \udfff'), 'lone\\ud800 and \\udfff');
    for (const code of UNSAFE) assert.equal(escapeReportText(String.fromCodePoint(code)), `\\u${code.toString(16).padStart(4, '0')}`);
  });

  test('a backslash is doubled, so a name spelling an escape is told apart from an escaped character', () => {
    assert.equal(escapeReportText('\\u001b'), '\\\\u001b');
    assert.equal(escapeReportText('\u001b'), '\\u001b');
    assert.equal(escapeReportText('C:\\temp'), 'C:\\\\temp');
  });

  test('printable text is kept as it is, non-ASCII and astral characters included', () => {
    for (const text of ['checkout-api', 'Paiement é ß', '日本語のサービス', 'emoji 😀 ok', '\u00a0nbsp', 'tilde ~ and {braces}']) assert.equal(escapeReportText(text), text);
  });

  test('the rendered report holds no raw control character but its own line breaks', () => {
    const hostile = 'evil\u001b]0;pwned\u0007\r\n✅ fake line\u009b2J\u202e\ud800\\';
    const statuses: SlaStatuses = new Map([
      [
        hostile,
        buildStatus({
          service: hostile,
          target: null,
          window: '24h',
          windowStart: NOW - 86_400_000,
          now: NOW,
          measure: { total: 1, failed: 0, firstEventAt: NOW - 1000, p95Ms: 5, p99Ms: 5, exact: true },
          burn: null,
        }),
      ],
    ]);
    const report = renderReport(statuses, new Date(NOW).toISOString(), '24h');
    assert.deepEqual(rawUnsafe(report), []);
    const escaped = 'evil\\u001b]0;pwned\\u0007\\u000d\\u000a✅ fake line\\u009b2J\\u202e\\ud800\\\\';
    assert.ok(report.split('\n').includes(`➖ ${escaped} (${escaped}) - no target, window 24h`), report);
    // Only the report's own lines: the name did not add one.
    assert.equal(report.split('\n').length, 11);
  });
});
