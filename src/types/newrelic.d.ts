declare module 'newrelic';
