import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { SplunkConfig } from './splunk.plugin.js';

const gzipAsync = promisify(gzip);

/** Most of an answer body read: HEC answers are a few dozen bytes. */
const MAX_ANSWER_BYTES = 64 * 1024;

export const HEC_REQUEST_TIMEOUT_MS = 30_000;

export class SplunkTlsConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SplunkTlsConfigurationError';
  }
}

/**
 * The connection pool of the HEC destination, its own so that its TLS settings
 * touch nothing else in the process. Certificates are verified unless
 * SPLUNK_TLS_VERIFY=false; SPLUNK_CA_FILE (read once, here, at startup) is
 * trusted in addition to the public roots. An unreadable CA file is a startup
 * error, not a silent fallback.
 */
export function createHecAgent(config: SplunkConfig, readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')): http.Agent {
  const url = new URL(config.url);
  if (url.protocol === 'http:') return new http.Agent({ keepAlive: true, maxSockets: 8 });
  let ca: string[] | undefined;
  if (config.caFile) {
    let pem: string;
    try {
      pem = readFile(config.caFile);
    } catch (error) {
      throw new SplunkTlsConfigurationError(`SPLUNK_CA_FILE ${config.caFile} cannot be read: ${(error as Error).message}`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new SplunkTlsConfigurationError(`SPLUNK_CA_FILE ${config.caFile} holds no PEM certificate`);
    }
    ca = [...rootCertificates, pem];
  }
  return new https.Agent({ keepAlive: true, maxSockets: 8, rejectUnauthorized: config.tlsVerify, ...(ca ? { ca } : {}) });
}

export interface HecAnswer {
  status: number;
  body: string;
  retryAfter?: string;
}

/** POSTs batches to `<base>/services/collector/event`, gzip-compressed. */
export class HecClient {
  private readonly endpoint: URL;
  private readonly transport: typeof http | typeof https;
  /**
   * One channel per process: HEC requires a channel when indexer
   * acknowledgment is on for the token, and ignores it otherwise.
   */
  private readonly channel = randomUUID();

  constructor(
    config: SplunkConfig,
    private readonly token: string,
    private readonly agent: http.Agent,
    private readonly timeoutMs = HEC_REQUEST_TIMEOUT_MS,
  ) {
    this.endpoint = new URL(`${config.url.replace(/\/+$/, '')}/services/collector/event`);
    this.transport = this.endpoint.protocol === 'https:' ? https : http;
  }

  async post(body: string, signal: AbortSignal): Promise<HecAnswer> {
    const compressed = await gzipAsync(Buffer.from(body, 'utf8'));
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]);
    return new Promise<HecAnswer>((resolve, reject) => {
      const request = this.transport.request(
        this.endpoint,
        {
          method: 'POST',
          agent: this.agent,
          signal: deadline,
          headers: {
            authorization: `Splunk ${this.token}`,
            'content-type': 'application/json',
            'content-encoding': 'gzip',
            'content-length': compressed.length,
            'x-splunk-request-channel': this.channel,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
            size += chunk.length;
          });
          response.on('error', reject);
          response.on('end', () => {
            const retryAfter = response.headers['retry-after'];
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8'),
              ...(retryAfter !== undefined ? { retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter } : {}),
            });
          });
        },
      );
      request.on('error', (error) => reject(signal.aborted ? error : deadline.aborted ? new Error(`no answer within ${this.timeoutMs} ms`) : error));
      request.end(compressed);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
