export { eventually } from './eventually';
export { testRunId, uniqueTestName } from './run-id';
export { createTestDatabase, testPostgresUrl, testSqliteDatabase, type TestDatabase } from './test-database';
export { testNatsConfig, testNatsUrl, type TestNatsConfig } from './test-nats';
export { startTcpProxy, type TcpProxy } from './tcp-proxy';
export { closedPort, occupiedPort } from './ports';
export { serviceDatabases, type ServiceDatabase } from './service-databases';
export { seededUniforms } from './seeded-uniforms';
