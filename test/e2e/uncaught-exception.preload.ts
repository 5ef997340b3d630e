/**
 * Test-only preload (`node --import`, set through NODE_OPTIONS by
 * uncaught-exception.e2e.test.ts; never part of the service): on SIGUSR2 it throws
 * from a timer, which nothing catches, so Vigil meets a real uncaught exception.
 */
process.on('SIGUSR2', () => {
  setTimeout(() => {
    throw new Error('uncaught exception provoked by the test');
  }, 0);
});
