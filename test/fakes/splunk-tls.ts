import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface TestCertificates {
  directory: string;
  /** PEM of the private CA that signed the server certificate. */
  caFile: string;
  caPem: string;
  /** Server key and certificate for 127.0.0.1 and localhost. */
  key: string;
  cert: string;
}

/**
 * A private CA and a server certificate it signed (for 127.0.0.1), checked in
 * under test/fixtures/tls (test-only; see its README), so the tests need no
 * openssl binary.
 */
export function makeTestCertificates(): TestCertificates {
  const directory = resolve('test/fixtures/tls');
  const caFile = join(directory, 'ca.pem');
  return {
    directory,
    caFile,
    caPem: readFileSync(caFile, 'utf8'),
    key: readFileSync(join(directory, 'server.key'), 'utf8'),
    cert: readFileSync(join(directory, 'server.pem'), 'utf8'),
  };
}
