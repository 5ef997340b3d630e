import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CredentialRedactor, displayUrl } from '../../src/delivery/redaction.js';

describe('CredentialRedactor', () => {
  test('replaces every configured secret, as given, trimmed and JSON-escaped', () => {
    const redactor = new CredentialRedactor(['dd-key-0123456789', 'nr-license\nsecond-line', '  hec-token-0123456789 ']);
    assert.equal(redactor.redact('Datadog answered 403: dd-key-0123456789'), 'Datadog answered 403: [redacted]');
    assert.equal(
      redactor.redact('network error: Headers.append: "nr-license\nsecond-line" is an invalid header value.'),
      'network error: Headers.append: "[redacted]" is an invalid header value.',
    );
    assert.equal(redactor.redact('New Relic answered 400: {"error":"nr-license\\nsecond-line"}'), 'New Relic answered 400: {"error":"[redacted]"}');
    assert.equal(redactor.redact('HEC answered 403: Splunk hec-token-0123456789'), 'HEC answered 403: Splunk [redacted]');
  });

  test('a secret containing another is replaced whole', () => {
    const redactor = new CredentialRedactor(['abc-key', 'abc-key-and-more']);
    assert.equal(redactor.redact('got abc-key-and-more and abc-key'), 'got [redacted] and [redacted]');
  });

  test('removes the userinfo and the query string of any URL in the text', () => {
    const redactor = new CredentialRedactor([]);
    assert.equal(
      redactor.redact('network error: Request cannot be constructed from a URL that includes credentials: http://vigil:proxy-password@10.0.0.1:8080/api/v2/series'),
      'network error: Request cannot be constructed from a URL that includes credentials: http://[redacted]@10.0.0.1:8080/api/v2/series',
    );
    assert.equal(redactor.redact('posting to https://metric-api.newrelic.com/metric/v1?Api-Key=abc123 failed'), 'posting to https://metric-api.newrelic.com/metric/v1?[redacted] failed');
    assert.equal(redactor.redact('for REST request [/_bulk?filter_path=errors]'), 'for REST request [/_bulk?filter_path=errors]');
  });

  test('text without credentials is left as it is', () => {
    const redactor = new CredentialRedactor(['dd-key-0123456789']);
    assert.equal(redactor.redact('Elasticsearch answered 400: mapper_parsing_exception'), 'Elasticsearch answered 400: mapper_parsing_exception');
  });
});

describe('displayUrl', () => {
  test('drops the userinfo and the query string', () => {
    assert.equal(displayUrl('https://elastic:changeme@es.example.com:9200/?x=1'), 'https://es.example.com:9200');
    assert.equal(displayUrl('not a url'), '(unparseable URL)');
  });
});
