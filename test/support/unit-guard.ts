import net from 'node:net';

/**
 * Preloaded (`--import`) by `npm run test:unit`: the unit tier (`*.spec.ts`) needs no
 * network, so a connection or a listening socket (Postgres, an HTTP fake, the app)
 * fails the test that opens it. Such a test is a `*.test.ts`.
 */
function refuse(what: string): never {
  throw new Error(`${what} in a unit test: *.spec.ts files run without network or database (npm run test:unit); make this a *.test.ts`);
}

net.Socket.prototype.connect = function connect(): never {
  refuse('A network connection');
};
net.Server.prototype.listen = function listen(): never {
  refuse('A listening socket');
};
