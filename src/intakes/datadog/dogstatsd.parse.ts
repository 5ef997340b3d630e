import { eventOfServiceCheck, vigilAlertType } from './datadog-api.decode.js';
import { tagsFromDatadog } from './datadog.tags.js';

type Raw = Record<string, unknown>;

/** A member of a DogStatsD set (`|s`), counted per flush interval by the listener. */
export interface SetMember {
  name: string;
  member: string;
  tags: Record<string, string>;
}

/** What one datagram held, as Vigil's raw items. */
export interface ParsedDatagram {
  metrics: Raw[];
  events: Raw[];
  setMembers: SetMember[];
  /** Lines that were not DogStatsD (counted, never stored). */
  malformed: number;
}

/** A sampled histogram value stands for at most this many (a @0.001 rate must not make 1000 items). */
const MAX_SAMPLE_COPIES = 100;

const DISTRIBUTION_TYPES: Record<string, string | undefined> = { h: undefined, d: undefined, ms: 'ms' };

function parseFields(fields: string[]): { rate: number; tags: Record<string, string>; timestamp: number | undefined } | null {
  let rate = 1;
  let tags: Record<string, string> = {};
  let timestamp: number | undefined;
  for (const field of fields) {
    if (field.startsWith('@')) {
      rate = Number(field.slice(1));
      if (!(rate > 0 && rate <= 1)) return null;
    } else if (field.startsWith('#')) tags = tagsFromDatadog(field.slice(1).split(','));
    else if (field.startsWith('T')) {
      timestamp = Number(field.slice(1)) * 1000;
      if (!Number.isFinite(timestamp)) return null;
    }
    // c: (container id) and e: (external data) are the client's origin detection: not kept.
  }
  return { rate, tags, timestamp };
}

/**
 * `name:value[:value…]|type[|@rate][|#tags][|T<seconds>]`: counts scaled by 1/rate (a sampled
 * count stands for 1/rate of them); gauges as they are; h, d and ms values as distribution items,
 * each sampled value repeated round(1/rate) times (at most 100) so that histogram counts on
 * /metrics match what the client measured; ms values carry the unit `ms`; sets as members.
 */
function parseMetric(line: string, into: ParsedDatagram): boolean {
  const fields = line.split('|');
  const head = fields[0]!;
  const colon = head.indexOf(':');
  if (colon <= 0 || fields.length < 2) return false;
  const name = head.slice(0, colon);
  const values = head.slice(colon + 1).split(':');
  const type = fields[1]!;
  const parsed = parseFields(fields.slice(2));
  if (parsed === null) return false;
  const timestamp = parsed.timestamp === undefined ? {} : { timestamp: parsed.timestamp };
  if (type === 's') {
    for (const member of values) into.setMembers.push({ name, member, tags: parsed.tags });
    return true;
  }
  for (const text of values) {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) return false;
    if (type === 'c') into.metrics.push({ name, value: value / parsed.rate, type: 'count', tags: parsed.tags, ...timestamp });
    else if (type === 'g') into.metrics.push({ name, value, type: 'gauge', tags: parsed.tags, ...timestamp });
    else if (type in DISTRIBUTION_TYPES) {
      const unit = DISTRIBUTION_TYPES[type];
      const copies = Math.min(MAX_SAMPLE_COPIES, Math.max(1, Math.round(1 / parsed.rate)));
      for (let copy = 0; copy < copies; copy++) into.metrics.push({ name, value, type: 'distribution', tags: parsed.tags, ...(unit ? { unit } : {}), ...timestamp });
    } else return false;
  }
  return true;
}

function unescapeText(text: string): string {
  return text.replace(/\\n/g, '\n');
}

/** `_e{<title length>,<text length>}:<title>|<text>|d:<seconds>|h:<host>|t:<alert type>|s:<source>|#tags`. */
function parseEvent(line: string, into: ParsedDatagram): boolean {
  const header = /^_e\{(\d+),(\d+)\}:/.exec(line);
  if (!header) return false;
  const titleLength = Number(header[1]);
  const textLength = Number(header[2]);
  const start = header[0].length;
  const title = line.slice(start, start + titleLength);
  if (line[start + titleLength] !== '|') return false;
  const text = line.slice(start + titleLength + 1, start + titleLength + 1 + textLength);
  const rest = line.slice(start + titleLength + 1 + textLength);
  if (title.length !== titleLength || text.length !== textLength || (rest.length > 0 && !rest.startsWith('|'))) return false;
  const event: Raw = { title: unescapeText(title), text: unescapeText(text), alertType: 'info', tags: {} };
  let host: string | undefined;
  for (const field of rest.split('|').slice(1)) {
    if (field.startsWith('d:')) event['timestamp'] = Number(field.slice(2)) * 1000;
    else if (field.startsWith('h:')) host = field.slice(2);
    else if (field.startsWith('t:')) event['alertType'] = vigilAlertType(field.slice(2));
    else if (field.startsWith('s:')) event['source'] = field.slice(2);
    else if (field.startsWith('#')) event['tags'] = tagsFromDatadog(field.slice(1).split(','));
  }
  if (host !== undefined) event['tags'] = { ...(event['tags'] as Record<string, string>), host };
  into.events.push(event);
  return true;
}

/** `_sc|<name>|<status>|d:<seconds>|h:<host>|#tags|m:<message>` (the message is last). */
function parseServiceCheck(line: string, into: ParsedDatagram): boolean {
  const fields = line.split('|');
  if (fields.length < 3 || !/^[0-3]$/.test(fields[2]!)) return false;
  let timestamp: number | undefined;
  let host: string | undefined;
  let tags: Record<string, string> = {};
  let message: string | undefined;
  for (let index = 3; index < fields.length; index++) {
    const field = fields[index]!;
    if (field.startsWith('m:')) {
      message = unescapeText(fields.slice(index).join('|').slice(2));
      break;
    }
    if (field.startsWith('d:')) timestamp = Number(field.slice(2)) * 1000;
    else if (field.startsWith('h:')) host = field.slice(2);
    else if (field.startsWith('#')) tags = tagsFromDatadog(field.slice(1).split(','));
  }
  into.events.push(eventOfServiceCheck({ name: fields[1], status: Number(fields[2]), message, host, tags, timestamp }));
  return true;
}

/** A datagram: one or more newline-separated metrics, events and service checks. */
export function parseDatagram(text: string): ParsedDatagram {
  const parsed: ParsedDatagram = { metrics: [], events: [], setMembers: [], malformed: 0 };
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.length === 0) continue;
    const ok = line.startsWith('_e{') ? parseEvent(line, parsed) : line.startsWith('_sc|') ? parseServiceCheck(line, parsed) : parseMetric(line, parsed);
    if (!ok) parsed.malformed++;
  }
  return parsed;
}
