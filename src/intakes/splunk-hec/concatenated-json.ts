/** Where a body of concatenated JSON objects stopped making sense. */
export interface ConcatenatedJsonProblem {
  /** 0-based number of the object that could not be read (the objects before it were). */
  index: number;
  message: string;
}

export interface ConcatenatedJson {
  objects: Array<Record<string, unknown>>;
  problem: ConcatenatedJsonProblem | null;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/**
 * Splits `{…}{…} {…}\n{…}` — HEC's body: JSON objects one after another, with or without
 * whitespace between — and parses each, at most `maxObjects` (a body with more is refused at the
 * first one over, as an unreadable one is). It stops at the first object it cannot read: what
 * came before is returned with the problem, as Splunk indexes the events before an invalid one.
 * One pass over the text finds each object's end (strings and escapes skipped), then
 * JSON.parse reads that slice.
 */
export function parseConcatenatedJson(text: string, maxObjects: number): ConcatenatedJson {
  const objects: Array<Record<string, unknown>> = [];
  const length = text.length;
  let position = 0;
  for (;;) {
    while (position < length && isWhitespace(text.charCodeAt(position))) position++;
    if (position >= length) return { objects, problem: null };
    const index = objects.length;
    if (index >= maxObjects) return { objects, problem: { index, message: `more than ${maxObjects} events in one request` } };
    if (text.charCodeAt(position) !== OPEN_BRACE) return { objects, problem: { index, message: 'expected a JSON object' } };
    const end = endOfValue(text, position);
    if (end === -1) return { objects, problem: { index, message: 'unterminated JSON object' } };
    try {
      objects.push(JSON.parse(text.slice(position, end)) as Record<string, unknown>);
    } catch (error) {
      return { objects, problem: { index, message: (error as Error).message } };
    }
    position = end;
  }
}

/** The offset just past the object or array opening at `start`; -1 when the text ends first. */
function endOfValue(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let position = start; position < text.length; position++) {
    const code = text.charCodeAt(position);
    if (inString) {
      if (code === BACKSLASH) position++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++;
    else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return position + 1;
    }
  }
  return -1;
}
